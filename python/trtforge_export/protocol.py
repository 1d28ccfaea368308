"""The JSON-lines protocol on stdout.

Only this module writes to the real stdout. :func:`Protocol.take_stdout` moves file descriptor 1
onto stderr, so that anything else printed by Python or by native libraries (torch's exporter
prints progress on stdout) lands on stderr and never corrupts the protocol stream.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import IO, Any, Literal

Stage = Literal["load", "export", "check", "reference", "report"]
Level = Literal["debug", "info", "warning", "error"]


class Protocol:
    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.finished = False

    @classmethod
    def take_stdout(cls) -> Protocol:
        """Keep the real stdout for the protocol and point fd 1 and sys.stdout at stderr."""
        sys.stdout.flush()
        fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        return cls(os.fdopen(fd, "w", encoding="utf-8", buffering=1))

    def _emit(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def progress(self, stage: Stage, current: int, total: int, message: str) -> None:
        self._emit({"type": "progress", "stage": stage, "current": current, "total": total, "message": message})

    def log(self, level: Level, message: str) -> None:
        self._emit({"type": "log", "level": level, "message": message})

    def result(self, report: dict[str, Any]) -> None:
        self._emit({"type": "result", "report": report})
        self.finished = True

    def error(self, code: str, message: str, fix: str) -> None:
        self._emit({"type": "error", "code": code, "message": message, "fix": fix})
        self.finished = True
