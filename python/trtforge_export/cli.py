"""Entry point: python -m trtforge_export. Owns the protocol stream, exit status and cleanup."""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType

from . import env
from .errors import EXIT_FAILED, EXIT_OK, ExportError
from .protocol import Protocol


class _Terminated(BaseException):
    pass


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(f"signal {signum}")


def main(argv: Sequence[str]) -> int:
    env.configure()
    proto = Protocol.take_stdout()
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from .options import parse_options
        from .plan import make_plan
        from .samples import read_samples

        options = parse_options(argv)
        texts = read_samples(options.samples, options.max_samples) if options.samples is not None else None
        proto.progress("load", 0, 3, f"checking {options.model}")
        plan = make_plan(options)
        from .run import run  # imports torch: only once options, samples and folder are known to be good

        report = run(options, plan, proto, texts)
        proto.result(report)
        return EXIT_OK
    except ExportError as e:
        if e.__cause__ is not None:
            traceback.print_exception(e.__cause__, file=sys.stderr)
        print(f"trtforge_export: {e.code}: {e.message}", file=sys.stderr)
        proto.error(e.code, e.message, e.fix)
        return e.exit_status
    except (_Terminated, KeyboardInterrupt) as e:
        proto.error("INTERNAL", f"interrupted ({e or 'keyboard interrupt'}); nothing was written", "run the export again")
        return EXIT_FAILED
    except SystemExit:
        raise  # --help
    except BaseException as e:  # noqa: BLE001 - every failure must end the protocol with an error line
        traceback.print_exc(file=sys.stderr)
        proto.error("INTERNAL", f"{type(e).__name__}: {e}".strip(),
                    "see the traceback on stderr; report a bug with it and the model's config.json")
        return EXIT_FAILED
