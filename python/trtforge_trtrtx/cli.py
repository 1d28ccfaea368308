"""python -m trtforge_trtrtx {build,parse,load}: JSON lines on stdout (progress, log, result, error).

build  parses a validated ONNX and writes a serialized TensorRT-RTX plan (atomically: a temporary
       sibling renamed into place), with the request's optimization profile and target compute
       capabilities.
parse  runs only NVIDIA's ONNX parser and reports its warnings; a rejected model is an error.
load   tries to deserialize a plan on this host's GPU, the way a runtime would, and reports why not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from trtforge_export.protocol import Protocol

PRECISIONS = ("fp32", "fp16", "bf16")
EXIT_BAD_INPUT = 2
EXIT_REJECTED = 3
EXIT_UNAVAILABLE = 4
EXIT_INTERNAL = 5


class ChildError(Exception):
    def __init__(self, code: str, message: str, fix: str, exit_code: int) -> None:
        super().__init__(message)
        self.code = code
        self.fix = fix
        self.exit_code = exit_code


def import_trt() -> Any:
    try:
        import tensorrt_rtx_bindings as trt
    except ImportError as err:
        raise ChildError(
            "UNAVAILABLE",
            f"the TensorRT-RTX Python bindings cannot be imported: {err}",
            "run bash scripts/setup-python.sh --with-trtrtx (installs python/requirements-trtrtx.lock)",
            EXIT_UNAVAILABLE,
        ) from err
    return trt


@dataclass
class Collected:
    """What TensorRT-RTX logged: warnings and errors are kept for the report and provenance."""

    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def make_logger(trt: Any, proto: Protocol, collected: Collected, verbose: bool) -> Any:
    sev = trt.ILogger.Severity

    class ForwardingLogger(trt.ILogger):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            if severity in (sev.INTERNAL_ERROR, sev.ERROR):
                collected.errors.append(msg)
                proto.log("error", msg)
            elif severity == sev.WARNING:
                collected.warnings.append(msg)
                proto.log("warning", msg)
            elif severity == sev.INFO:
                proto.log("info" if verbose else "debug", msg)

    return ForwardingLogger()


def make_progress_monitor(trt: Any, proto: Protocol) -> Any:
    class PhaseMonitor(trt.IProgressMonitor):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)
            self.totals: dict[str, int] = {}

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            self.totals[phase_name] = num_steps
            proto.progress(phase_name, 0, num_steps, "")

        def step_complete(self, phase_name: str, step: int) -> bool:
            proto.progress(phase_name, step + 1, self.totals.get(phase_name, step + 1), "")
            return True

        def phase_finish(self, phase_name: str) -> None:
            total = self.totals.get(phase_name, 0)
            proto.progress(phase_name, total, total, "")

    return PhaseMonitor()


def run_parser(trt: Any, logger: Any, onnx_path: str, collected: Collected) -> tuple[Any, Any, Any]:
    if not os.path.isfile(onnx_path):
        raise ChildError("BAD_INPUT", f"no ONNX file at {onnx_path}", "pass the validated model.onnx", EXIT_BAD_INPUT)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    # parse_from_file resolves external data next to the model, as the exporter writes it.
    ok = parser.parse_from_file(onnx_path)
    if not ok:
        problems = []
        for i in range(parser.num_errors):
            e = parser.get_error(i)
            problems.append(f"node {e.node_name() or e.node()} ({e.node_operator()}): {e.desc()}")
        raise ChildError(
            "REJECTED",
            f"TensorRT-RTX's ONNX parser rejected {onnx_path}:\n  " + "\n  ".join(problems or collected.errors or ["no detail"]),
            "the named operator or type is not supported by TensorRT-RTX: export at another opset or change the export",
            EXIT_REJECTED,
        )
    return builder, network, parser


def network_io(network: Any) -> dict[str, list[dict[str, Any]]]:
    def spec(t: Any) -> dict[str, Any]:
        return {"name": t.name, "dtype": str(t.dtype).split(".")[-1].lower(), "shape": list(t.shape)}

    return {
        "inputs": [spec(network.get_input(i)) for i in range(network.num_inputs)],
        "outputs": [spec(network.get_output(i)) for i in range(network.num_outputs)],
    }


def compute_capability_enum(trt: Any, text: str) -> Any:
    name = "SM" + text.replace(".", "")
    member = trt.ComputeCapability.__members__.get(name)
    if member is None or name in ("SM_NONE", "SMCURRENT"):
        known = [k[2:] for k in trt.ComputeCapability.__members__ if k.startswith("SM") and k[2:].isdigit()]
        raise ChildError(
            "BAD_INPUT",
            f"compute capability {text} is not a TensorRT-RTX target",
            f"use one of {', '.join(known)}",
            EXIT_BAD_INPUT,
        )
    return member


def peak_rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux.
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def cmd_parse(args: argparse.Namespace, proto: Protocol) -> None:
    trt = import_trt()
    collected = Collected()
    logger = make_logger(trt, proto, collected, args.verbose)
    start = time.perf_counter()
    _, network, _ = run_parser(trt, logger, args.onnx, collected)
    proto.result(
        {
            "onnx": os.path.abspath(args.onnx),
            "trt_rtx_version": trt.__version__,
            "layers": network.num_layers,
            **network_io(network),
            "warnings": collected.warnings,
            "parse_seconds": round(time.perf_counter() - start, 3),
        }
    )


def cmd_build(args: argparse.Namespace, proto: Protocol) -> None:
    if args.precision not in PRECISIONS:
        raise ChildError("BAD_INPUT", f"precision {args.precision} is not built here", f"use one of {', '.join(PRECISIONS)}", EXIT_BAD_INPUT)
    try:
        profile_spec = json.loads(args.profile)
        assert isinstance(profile_spec, list) and profile_spec
    except (ValueError, AssertionError) as err:
        raise ChildError("BAD_INPUT", f"--profile is not a JSON list of {{input,min,opt,max}}: {err}", "pass the request's profile", EXIT_BAD_INPUT) from err
    trt = import_trt()
    capabilities = [compute_capability_enum(trt, cc) for cc in args.compute_capability]
    collected = Collected()
    logger = make_logger(trt, proto, collected, args.verbose)
    start = time.perf_counter()
    proto.progress("parse", 0, 1, args.onnx)
    builder, network, _ = run_parser(trt, logger, args.onnx, collected)
    proto.progress("parse", 1, 1, args.onnx)
    io = network_io(network)
    input_names = [i["name"] for i in io["inputs"]]
    config = builder.create_builder_config()
    config.progress_monitor = make_progress_monitor(trt, proto)
    if capabilities:
        config.num_compute_capabilities = len(capabilities)
        for index, cc in enumerate(capabilities):
            config.set_compute_capability(cc, index)
    profile = builder.create_optimization_profile()
    for entry in profile_spec:
        name = entry["input"]
        if name not in input_names:
            raise ChildError(
                "BAD_INPUT",
                f"the profile names input {name}, which {args.onnx} does not have (inputs: {', '.join(input_names)})",
                "build from the ONNX the profile was made for",
                EXIT_BAD_INPUT,
            )
        profile.set_shape(name, tuple(entry["min"]), tuple(entry["opt"]), tuple(entry["max"]))
    missing = [n for n in input_names if n not in {e["input"] for e in profile_spec}]
    if missing:
        raise ChildError("BAD_INPUT", f"the profile has no shapes for input(s) {', '.join(missing)} of {args.onnx}", "give every input a min/opt/max", EXIT_BAD_INPUT)
    config.add_optimization_profile(profile)
    dtypes = {t["dtype"] for t in io["inputs"] + io["outputs"]}
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise ChildError(
            "BUILD_FAILED",
            "TensorRT-RTX could not build an engine:\n  " + "\n  ".join(collected.errors or ["no error was logged"]),
            "read the TensorRT-RTX log above",
            EXIT_REJECTED,
        )
    data = bytes(memoryview(plan))
    build_seconds = time.perf_counter() - start
    out = os.path.abspath(args.out)
    tmp = f"{out}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    proto.result(
        {
            "plan_file": out,
            "plan_bytes": len(data),
            "plan_sha256": hashlib.sha256(data).hexdigest(),
            "trt_rtx_version": trt.__version__,
            "precision": args.precision,
            "compute_capabilities": args.compute_capability,
            "io_dtypes": sorted(dtypes),
            **io,
            "warnings": collected.warnings,
            "build_seconds": round(build_seconds, 3),
            "peak_rss_bytes": peak_rss_bytes(),
        }
    )


def cmd_load(args: argparse.Namespace, proto: Protocol) -> None:
    trt = import_trt()
    collected = Collected()
    logger = make_logger(trt, proto, collected, args.verbose)
    with open(args.plan, "rb") as f:
        data = f.read()
    runtime = trt.Runtime(logger)
    engine = runtime.deserialize_cuda_engine(data)
    proto.result(
        {
            "plan": os.path.abspath(args.plan),
            "trt_rtx_version": trt.__version__,
            "loaded": engine is not None,
            "errors": collected.errors,
            "warnings": collected.warnings,
        }
    )


def build_argparser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trtforge_trtrtx")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--onnx", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--precision", required=True)
    b.add_argument("--profile", required=True, help='JSON: [{"input": name, "min": [..], "opt": [..], "max": [..]}, ...]')
    b.add_argument("--compute-capability", action="append", default=[], help="8.6 (repeatable); none: the library's default targets")
    b.add_argument("--verbose", action="store_true")
    ps = sub.add_parser("parse")
    ps.add_argument("--onnx", required=True)
    ps.add_argument("--verbose", action="store_true")
    ld = sub.add_parser("load")
    ld.add_argument("--plan", required=True)
    ld.add_argument("--verbose", action="store_true")
    return p


def main(argv: list[str]) -> int:
    proto = Protocol.take_stdout()
    try:
        args = build_argparser().parse_args(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
        if code:
            proto.error("BAD_INPUT", "invalid arguments (see stderr)", "python -m trtforge_trtrtx --help")
        return code
    try:
        {"build": cmd_build, "parse": cmd_parse, "load": cmd_load}[args.command](args, proto)
        return 0
    except ChildError as err:
        proto.error(err.code, str(err), err.fix)
        return err.exit_code
    except Exception as err:  # noqa: BLE001 - the protocol must say what broke
        traceback.print_exc(file=sys.stderr)
        proto.error("INTERNAL", f"{type(err).__name__}: {err}", "report this with the log")
        return EXIT_INTERNAL
