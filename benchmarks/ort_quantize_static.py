#!/usr/bin/env python3
"""ONNX Runtime's own static quantization, one configuration per process, for int8-accuracy.mjs.

  preprocess  quant_pre_process (symbolic + ONNX shape inference, ORT basic optimization): the
              pre-processing ORT recommends before quantize_static
  quantize    quantize_static(QuantFormat.QDQ, per_channel=True, ...) with one calibrate_method,
              one op set and one activation type, fed the token ids the Node tokenizer produced for
              the calibration articles (a JSON file written by int8-accuracy.mjs), so that ORT and
              ours calibrate on identical inputs

The last line on stdout is a JSON object: status ("ok", "error", "out-of-memory"), timings, peak RSS
and the exact quantize_static arguments. Memory is capped with RLIMIT_AS (what `ulimit -v` sets)
when --max-vm-gb is given, and the process asks the kernel to pick it first if memory runs out
(oom_score_adj 1000), so that a runaway calibrator never takes other jobs down with it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import traceback


def cap_memory(max_vm_gb: float | None) -> None:
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass
    if max_vm_gb:
        limit = int(max_vm_gb * 1e9)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit(result: dict) -> None:
    result.setdefault("peak_rss_bytes", peak_rss_bytes())
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


def classify(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError) or "bad_alloc" in text or "Failed to allocate memory" in text or "Unable to allocate" in text:
        return "out-of-memory"
    return "error"


def preprocess(args) -> None:
    from onnxruntime.quantization.shape_inference import quant_pre_process

    # ORT's defaults first; its symbolic shape inference gives up on some exports (the Where/Expand
    # mask arithmetic), so then the documented fallbacks: auto_merge, then ONNX shape inference only.
    attempts = []
    for options in ({}, {"auto_merge": True}, {"skip_symbolic_shape": True}):
        started = time.perf_counter()
        try:
            quant_pre_process(args.model, args.out, **options)
        except Exception as exc:  # noqa: BLE001 - recorded, the next option is tried
            attempts.append({"options": options, "error": f"{type(exc).__name__}: {exc}"[:500]})
            continue
        emit({"status": "ok", "seconds": time.perf_counter() - started, "out": args.out, "options": options, "failed_attempts": attempts})
        return
    emit({"status": "error", "error": "quant_pre_process failed with every option", "failed_attempts": attempts})
    sys.exit(3)


def quantize(args) -> None:
    import numpy as np
    import onnxruntime
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

    # The module, not the package's re-exported quantize() function of the same name.
    ortq = sys.modules["onnxruntime.quantization.quantize"]

    with open(args.calib) as f:
        calib = json.load(f)
    shape = calib["shape"]
    arrays = {name: np.asarray(calib[name], dtype=np.int64).reshape(shape) for name in ("input_ids", "attention_mask", "token_type_ids")}
    rows = shape[0]
    batch = args.batch

    class Reader(CalibrationDataReader):
        """Batches of `batch` rows, in the order ours calibrates them; set_range for CalibStridedMinMax."""

        def __init__(self):
            self.batches = [{n: a[i : i + batch] for n, a in arrays.items()} for i in range(0, rows, batch)]
            self.start, self.end = 0, len(self.batches)
            self.at = self.start
            self.rows_fed = 0

        def get_next(self):
            if self.at >= self.end:
                return None
            feeds = self.batches[self.at]
            self.at += 1
            self.rows_fed += feeds["input_ids"].shape[0]
            return feeds

        def __len__(self):
            return len(self.batches)

        def set_range(self, start_index: int, end_index: int):
            self.start, self.end = start_index, min(end_index, len(self.batches))
            self.at = self.start

    # Time calibration apart from the rest of quantize_static (graph rewrite, weight quantization, save).
    timing = {"create_calibrator": 0.0, "collect_data": 0.0, "compute_data": 0.0}
    counts = {"tensors_calibrated": None}
    original_create = ortq.create_calibrator

    def timed_create(*a, **kw):
        t0 = time.perf_counter()
        calibrator = original_create(*a, **kw)
        timing["create_calibrator"] += time.perf_counter() - t0
        collect, compute = calibrator.collect_data, calibrator.compute_data

        def timed_collect(reader):
            t = time.perf_counter()
            try:
                return collect(reader)
            finally:
                timing["collect_data"] += time.perf_counter() - t

        def timed_compute():
            t = time.perf_counter()
            try:
                result = compute()
                counts["tensors_calibrated"] = len(result.data) if hasattr(result, "data") else None
                return result
            finally:
                timing["compute_data"] += time.perf_counter() - t

        calibrator.collect_data = timed_collect
        calibrator.compute_data = timed_compute
        return calibrator

    ortq.create_calibrator = timed_create

    method = {"MinMax": CalibrationMethod.MinMax, "Entropy": CalibrationMethod.Entropy, "Percentile": CalibrationMethod.Percentile, "Distribution": CalibrationMethod.Distribution}[args.method]
    if args.activation == "qint8-sym":
        activation_type, extra = QuantType.QInt8, {"ActivationSymmetric": True, "WeightSymmetric": True}
    elif args.activation == "quint8":
        activation_type, extra = QuantType.QUInt8, {"WeightSymmetric": True}
    else:
        raise SystemExit(f"unknown --activation {args.activation}")
    if args.exclude_output_quantization:
        extra["OpTypesToExcludeOutputQuantization"] = args.exclude_output_quantization.split(",")
    if args.stride:
        extra["CalibStridedMinMax"] = args.stride
    op_types = None if args.ops == "default" else args.ops.split(",")
    nodes_to_exclude = args.nodes_to_exclude.split(",") if args.nodes_to_exclude else None
    kwargs = {
        "quant_format": "QuantFormat.QDQ",
        "op_types_to_quantize": op_types,
        "nodes_to_exclude": nodes_to_exclude,
        "per_channel": True,
        "reduce_range": False,
        "activation_type": str(activation_type),
        "weight_type": "QuantType.QInt8",
        "calibrate_method": str(method),
        "extra_options": extra,
        "calibration_cache_path": args.cache,
    }
    cache_hit = bool(args.cache) and os.path.isfile(args.cache)
    reader = Reader()
    result = {
        "method": args.method,
        "ops": args.ops,
        "activation": args.activation,
        "stride_batches": args.stride,
        "exclude_output_quantization": args.exclude_output_quantization,
        "calibration_rows": rows,
        "batch": batch,
        "onnxruntime": onnxruntime.__version__,
        "quantize_static_args": kwargs,
        "cache_hit": cache_hit,
    }
    started = time.perf_counter()
    try:
        quantize_static(
            args.model,
            args.out,
            calibration_data_reader=reader,
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=op_types,
            nodes_to_exclude=nodes_to_exclude,
            per_channel=True,
            reduce_range=False,
            activation_type=activation_type,
            weight_type=QuantType.QInt8,
            calibrate_method=method,
            extra_options=extra,
            calibration_cache_path=args.cache,
        )
    except BaseException as exc:  # noqa: BLE001 - reported, never hidden
        result.update(status=classify(exc), error=f"{type(exc).__name__}: {exc}"[:2000], traceback=traceback.format_exc()[-4000:], seconds=time.perf_counter() - started, calibration_timing=timing)
        emit(result)
        sys.exit(3)
    total = time.perf_counter() - started
    result.update(
        status="ok",
        seconds=total,
        calibration_seconds=None if cache_hit else sum(timing.values()),
        calibration_timing=timing,
        tensors_calibrated=counts["tensors_calibrated"],
        rows_fed=reader.rows_fed,
        out=args.out,
    )
    emit(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("preprocess")
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--max-vm-gb", type=float)
    q = sub.add_parser("quantize")
    q.add_argument("--model", required=True, help="fp32 ONNX (pre-processed)")
    q.add_argument("--calib", required=True, help="JSON with shape, input_ids, attention_mask, token_type_ids")
    q.add_argument("--out", required=True)
    q.add_argument("--method", required=True, choices=["MinMax", "Entropy", "Percentile", "Distribution"])
    q.add_argument("--ops", default="MatMul", help="comma-separated op types, or 'default' (quantize_static's own full op set)")
    q.add_argument("--activation", default="qint8-sym", choices=["qint8-sym", "quint8"])
    q.add_argument("--batch", type=int, default=32)
    q.add_argument("--cache", help="calibration_cache_path: reused when it exists (same method and op set)")
    q.add_argument("--stride", type=int, help="CalibStridedMinMax: calibrate this many batches at a time, merging (all rows still used)")
    q.add_argument("--exclude-output-quantization", help="OpTypesToExcludeOutputQuantization, comma-separated (e.g. MatMul: quantize MatMul inputs only)")
    q.add_argument("--nodes-to-exclude", help="nodes_to_exclude, comma-separated node names (kept in float)")
    q.add_argument("--max-vm-gb", type=float)
    args = parser.parse_args()
    cap_memory(args.max_vm_gb)
    try:
        if args.command == "preprocess":
            preprocess(args)
        else:
            quantize(args)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, SystemExit):
            raise
        emit({"status": classify(exc), "error": f"{type(exc).__name__}: {exc}"[:2000], "traceback": traceback.format_exc()[-4000:]})
        sys.exit(3)


if __name__ == "__main__":
    main()
