"""A kubeconfig file for the twin, which kubectl and the Kubernetes Python client both read."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml


def kubeconfig(*, server: str, name: str, user: str, token: str | None = None, namespace: str = "default",
               certificate_authority: bytes | None = None) -> dict[str, object]:
    """Cluster and context ``name`` (the scenario), user ``user`` (the participant the twin acts for)."""
    cluster: dict[str, str] = {"server": server}
    if certificate_authority:
        cluster["certificate-authority-data"] = base64.b64encode(certificate_authority).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token} if token else {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user, "namespace": namespace}}],
        "current-context": name,
        "preferences": {},
    }


def write_kubeconfig(path: Path, **fields: Any) -> Path:
    """Write it readable by the owner only (it may hold a token); returns ``path``."""
    text = yaml.safe_dump(kubeconfig(**fields), sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, 0o600)
    return path
