"""Versions of the export environment, for the report."""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
from pathlib import Path

PACKAGES = ("torch", "transformers", "onnx", "onnxruntime", "onnxscript")


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
