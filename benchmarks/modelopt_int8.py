#!/usr/bin/env python3
"""NVIDIA ModelOpt's ONNX int8 PTQ of the same fp32 MiniLM ONNX, as a peer to planW8A8 (issue 24).

Runs in its own venv (the project's locks do not pin ModelOpt):
  python3.11 -m venv /tmp/modelopt-venv && /tmp/modelopt-venv/bin/pip install "nvidia-modelopt[onnx]==0.47.0"
  /tmp/modelopt-venv/bin/python benchmarks/modelopt_int8.py --out /tmp/modelopt-int8.onnx [--method max] [--ops MatMul]
then: .venv/bin/python benchmarks/int8-w8a8-search.py --out X.json --evaluate /tmp/modelopt-int8.onnx
Calibration: --rows rows of 256 real tokens joined from the first 300 articles of
conf/samples/ag_news_1000.jsonl (as int8-w8a8-search.py fills its rows), CPU execution provider.
"""
import argparse, json, os, time
import numpy as np
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--onnx", default=os.path.join(ROOT, ".tools/models/all-MiniLM-L6-v2.onnx-fp32/model.onnx"))
ap.add_argument("--model", default=os.path.join(ROOT, ".tools/models/all-MiniLM-L6-v2"))
ap.add_argument("--articles", default=os.path.join(ROOT, "conf/samples/ag_news_1000.jsonl"))
ap.add_argument("--rows", type=int, default=32)
ap.add_argument("--length", type=int, default=256)
ap.add_argument("--method", default="max", help="ModelOpt calibration_method: max or entropy")
ap.add_argument("--ops", default="", help="op_types_to_quantize, comma list (default: ModelOpt's own choice)")
args = ap.parse_args()

tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
tok.no_padding()
tok.no_truncation()
texts = [json.loads(l)["text"] for l in open(args.articles)][:300]
CLS, SEP = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
out, k = [], 0
for _ in range(args.rows):
    row = []
    while len(row) < args.length - 2:
        row += tok.encode(texts[k % len(texts)], add_special_tokens=False).ids
        k += 1
    out.append([CLS] + row[: args.length - 2] + [SEP])
ids = np.array(out, dtype=np.int64)
calib = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}

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
