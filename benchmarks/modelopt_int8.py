#!/usr/bin/env python3
"""NVIDIA ModelOpt's ONNX int8 PTQ of the same fp32 MiniLM ONNX, as a peer to planW8A8 (issue 24).

Runs in its own venv (the project's locks do not pin ModelOpt):
  python3.11 -m venv /tmp/modelopt-venv && /tmp/modelopt-venv/bin/pip install "nvidia-modelopt[onnx]==0.47.0"
  /tmp/modelopt-venv/bin/python benchmarks/modelopt_int8.py --out /tmp/modelopt-int8.onnx [--method max] [--ops MatMul]
then: .venv/bin/python benchmarks/int8-w8a8-search.py --out X.json --evaluate /tmp/modelopt-int8.onnx
Calibration: --rows rows of 256 real tokens joined from the first 300 articles of
conf/samples/ag_news_1000.jsonl (as int8-w8a8-search.py fills its rows), CPU execution provider.
"""
import argparse, json, time
from w8a8_sim import Rows, add_input_args

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
add_input_args(ap)
ap.add_argument("--rows", type=int, default=32)
ap.add_argument("--length", type=int, default=256)
ap.add_argument("--method", default="max", help="ModelOpt calibration_method: max or entropy")
ap.add_argument("--ops", default="", help="op_types_to_quantize, comma list (default: ModelOpt's own choice)")
args = ap.parse_args()

texts = [json.loads(l)["text"] for l in open(args.articles)][:300]
calib = Rows(args.model).fill(texts, args.rows, args.length)

from modelopt.onnx.quantization import quantize  # noqa: E402

started = time.time()
quantize(
    onnx_path=args.onnx,
    quantize_mode="int8",
    calibration_data=calib,
    calibration_method=args.method,
    calibration_eps=["cpu"],
    **({"op_types_to_quantize": args.ops.split(",")} if args.ops else {}),
    # fp32 elsewhere (the default fp16 would add its own error), as the fake-quantized forms compared with it.
    high_precision_dtype="fp32",
    mha_accumulation_dtype="fp32",
    output_path=args.out,
)
print(f"wrote {args.out} in {time.time() - started:.0f} s")
