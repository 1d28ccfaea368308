"""Error codes of the export protocol and the exception that carries them."""

from __future__ import annotations

from typing import Final, Literal

ErrorCode = Literal["NOT_A_MODEL", "TASK_UNSUPPORTED", "NEEDS_HUB", "BAD_INPUT", "INTERNAL"]

EXIT_OK: Final = 0
EXIT_BAD_INPUT: Final = 2
EXIT_FAILED: Final = 3


class ExportError(Exception):
    """A failure the caller can act on: a protocol code, a message and how to fix it."""

    def __init__(self, code: ErrorCode, message: str, fix: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.fix = fix

    @property
    def exit_status(self) -> int:
        return EXIT_BAD_INPUT if self.code == "BAD_INPUT" else EXIT_FAILED
