"""Reading the reference texts: a JSONL file of {"text": ...} objects."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import ExportError

_FIX = 'write one JSON object per line, each with a string "text" field (blank lines are skipped)'


def read_samples(path: Path, limit: int) -> list[str]:
    """The first ``limit`` texts of ``path``. The whole file is validated, not only those rows."""
    texts: list[str] = []
    try:
        with path.open("r", encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ExportError("BAD_INPUT", f"{path}:{number}: not JSON ({e.msg})", _FIX) from e
                if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                    raise ExportError("BAD_INPUT", f'{path}:{number}: expected an object with a string "text" field', _FIX)
                if not row["text"].strip():
                    raise ExportError("BAD_INPUT", f"{path}:{number}: empty text", "drop rows whose text is empty")
                if len(texts) < limit:
                    texts.append(row["text"])
    except UnicodeDecodeError as e:
        raise ExportError("BAD_INPUT", f"{path}: not UTF-8 text ({e.reason})", _FIX) from e
    except OSError as e:
        raise ExportError("BAD_INPUT", f"{path}: cannot read ({e.strerror})", "pass a readable --samples file") from e
    if not texts:
        raise ExportError("BAD_INPUT", f"{path}: no samples", "pass a --samples file with at least one row")
    return texts
