"""TLS for a twin that asks for a token: kubectl sends credentials only over HTTPS.

The certificate is self-signed for the address the twin listens on, made with the ``openssl``
command (the standard library cannot make one), used from memory once loaded, and written into
the kubeconfig as the cluster's certificate authority.
"""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class TlsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Certificate:
    pem: bytes
    context: ssl.SSLContext


def _subject_names(host: str) -> str:
    names = {"DNS:localhost", "IP:127.0.0.1", "IP:::1"}
    try:
        ipaddress.ip_address(host)
        if host not in ("0.0.0.0", "::"):
            names.add(f"IP:{host}")
    except ValueError:
        names.add(f"DNS:{host}")
    return ",".join(sorted(names))


def self_signed(host: str) -> Certificate:
    """A fresh key and certificate for ``host``; raises TlsError when openssl is missing or fails."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TlsError("a twin with a token serves HTTPS (kubectl sends tokens only over TLS), "
                       "and making its certificate needs the openssl command (Debian package openssl)")
    with tempfile.TemporaryDirectory(prefix="tabletop-twin-") as folder:
        key, cert = Path(folder) / "key.pem", Path(folder) / "cert.pem"
        made = subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", "/CN=tabletop-twin",
             "-addext", f"subjectAltName={_subject_names(host)}", "-addext", "basicConstraints=critical,CA:TRUE"],
            capture_output=True, text=True, timeout=60)
        if made.returncode != 0:
            raise TlsError(f"openssl could not make the twin's certificate: {made.stderr.strip()}")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        return Certificate(cert.read_bytes(), context)
