"""Seeded random streams: one independent stream per named consumer.

Each consumer draws from its own ``random.Random`` seeded with ``"<seed>/<name>"``, so adding a
new consumer never changes the numbers an existing one sees (runs stay comparable).
"""

from __future__ import annotations

import random


class Streams:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def get(self, name: str) -> random.Random:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = random.Random(f"{self.seed}/{name}")
        return stream

    def token(self, name: str, length: int = 5, alphabet: str = "bcdfghjklmnpqrstvwxz2456789") -> str:
        """A random suffix like Kubernetes puts in generated names."""
        stream = self.get(name)
        return "".join(stream.choice(alphabet) for _ in range(length))
