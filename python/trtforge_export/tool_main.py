"""The shared ``main`` of the command-line tools that speak the JSON-lines protocol (the CPU- and
GPU-serving optimizers): bad arguments and missing inputs end in a BAD_INPUT error line before any
work, and every failure of the work ends the protocol with an error line, never a bare traceback."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import env
from .errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, ExportError
from .protocol import Protocol


def run_tool(
    argv: Sequence[str],
    *,
    tool: str,
    parse: Callable[[Sequence[str]], argparse.Namespace],
    usage_fix: str,
    inputs: Callable[[argparse.Namespace], Sequence[tuple[Path, str]]],
    work: Callable[[argparse.Namespace, Protocol], dict[str, Any]],
) -> int:
    env.configure()
    proto = Protocol.take_stdout()
    try:
        args = parse(argv)
    except SystemExit as e:
        if e.code in (0, None):
            raise
        proto.error("BAD_INPUT", f"bad arguments for {tool} (see stderr)", usage_fix)
        return EXIT_BAD_INPUT
    for path, what in inputs(args):
        if not path.is_file():
            proto.error("BAD_INPUT", f"the {what} {path} does not exist", "run the export stage first")
            return EXIT_BAD_INPUT
    try:
        proto.result(work(args, proto))
        return EXIT_OK
    except ExportError as e:
        proto.error(e.code, e.message, e.fix)
        return e.exit_status
    except BaseException as e:  # noqa: BLE001 - every failure must end the protocol with an error line
        traceback.print_exc(file=sys.stderr)
        proto.error("INTERNAL", f"{type(e).__name__}: {e}".strip(), "see the traceback on stderr")
        return EXIT_FAILED
