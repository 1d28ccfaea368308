"""python -m trtforge_export.cpu_serving: the CPU-serving form of an exported ONNX.

Fuses the graph for ONNX Runtime's CPU kernels (attention, see attention_fusion; then
onnxruntime.transformers.optimizer's SkipLayerNormalization, BiasGelu and LayerNormalization fusions)
and, for --quantization dynamic-int8, quantizes the weight MatMuls and the fused Attention with
onnxruntime.quantization.quantize_dynamic: int8 weights per output channel within ±63 (reduce_range:
no int16 saturation on x86-64 hosts without VNNI, so every host computes what the gate measured), activations quantized
per batch at run time (MatMulInteger / DynamicQuantizeMatMul / QAttention, the integer kernels ORT's
CPU provider is fast at). Per-channel weights keep MiniLM's sentence-embedding cosine against fp32
above 0.99 where per-tensor weights do not (0.96 on AG News; benchmarks/README.md).

Speaks the exporter's JSON-lines protocol on stdout: one `result` line whose report describes what
was done, or one `error` line. The output file is written under a temporary name and renamed.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .protocol import Protocol
from .tool_main import run_tool

QUANTIZATIONS = ("none", "dynamic-int8")
# Fusions onnxruntime.transformers reports, kept in the record when they occurred.
_FUSED_OPS = ("Attention", "SkipLayerNormalization", "BiasGelu", "Gelu", "FastGelu", "LayerNormalization", "EmbedLayerNormalization")


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m trtforge_export.cpu_serving")
    p.add_argument("--onnx", required=True, type=Path, help="the fp32 ONNX of the export stage")
    p.add_argument("--model", required=True, type=Path, help="the Hugging Face folder (config.json: heads, hidden size)")
    p.add_argument("--out", required=True, type=Path, help="the ONNX file to write")
    p.add_argument("--quantization", choices=QUANTIZATIONS, default="dynamic-int8")
    return p.parse_args(list(argv))


def _heads_and_hidden(model_dir: Path) -> tuple[int, int, str]:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    heads = config.get("num_attention_heads", config.get("n_heads"))
    hidden = config.get("hidden_size", config.get("dim"))
    if not isinstance(heads, int) or not isinstance(hidden, int):
        raise ValueError(f"{model_dir / 'config.json'} names no num_attention_heads/hidden_size")
    return heads, hidden, str(config.get("model_type", "bert"))


def optimize(onnx_path: Path, model_dir: Path, out: Path, quantization: str, proto: Protocol) -> dict[str, Any]:
    import onnx
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    from .attention_fusion import fuse_attention

    started = time.perf_counter()
    heads, hidden, model_type = _heads_and_hidden(model_dir)
    with tempfile.TemporaryDirectory(prefix=".trtforge-cpu-", dir=out.parent) as tmp:
        proto.progress("export", 1, 3, "fusing attention")
        fused = fuse_attention(onnx.load(str(onnx_path)), heads)
        # The exporter's intermediate shapes describe the graph before fusion; quantize_dynamic's
        # shape inference refuses a graph whose recorded shapes disagree with the fused one.
        del fused.model.graph.value_info[:]
        proto.log("info", f"attention: {fused.fused} of {fused.attention_blocks} blocks fused into com.microsoft.Attention")
        attention_path = Path(tmp) / "attention.onnx"
        onnx.save(fused.model, str(attention_path))
        proto.progress("export", 2, 3, "fusing LayerNorm and GELU")
        # opt_level 0: only the Python fusions; ORT's own graph optimizations run at session load,
        # for the CPU the session runs on, so nothing here is tied to one machine's kernels.
        optimized = optimizer.optimize_model(str(attention_path), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0)
        fused_path = Path(tmp) / "fused.onnx"
        del optimized.model.graph.value_info[:]
        optimized.save_model_to_file(str(fused_path))
        counts = collections.Counter(n.op_type for n in onnx.load(str(fused_path)).graph.node)
        quantized: dict[str, Any] | None = None
        final = fused_path
        if quantization == "dynamic-int8":
            proto.progress("export", 3, 3, "quantizing MatMul and Attention weights to int8")
            final = Path(tmp) / "int8.onnx"
            # reduce_range: int8 weights within ±63 (7 bits). ONNX Runtime's U8S8 kernels on x86-64
            # without VNNI (AVX2, or AVX-512 alone) sum uint8×int8 pairs in int16 (VPMADDUBSW), which
            # saturates with full-range weights: on such a host (an AVX2 AMD EPYC) a tiny classifier
            # agreed with fp32 on 0 % of labels and MiniLM fell to 0.9927, while a VNNI host computes
            # the same file without saturation. Within ±63 the sums cannot saturate, so every x86-64
            # host computes what the gate measured here; VNNI hosts keep the U8S8 kernels' speed
            # (uint8 weights, the other cure, ran 0.58x as fast there). benchmarks/cpu-int8-forms.mjs.
            quantize_dynamic(str(fused_path), str(final), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                             op_types_to_quantize=["MatMul", "Attention"],
                             # Tensors behind contrib ops (Attention, SkipLayerNormalization) get no type
                             # from ONNX shape inference; every float tensor here is float32.
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            qcounts = collections.Counter(n.op_type for n in onnx.load(str(final)).graph.node)
            quantized = {
                "method": "onnxruntime.quantization.quantize_dynamic",
                "weights": "int8 within ±63 (7 bits, reduce_range), symmetric, per output channel",
                "activations": "uint8, per tensor, computed per batch at run time",
                "op_types": ["MatMul", "Attention"],
                "integer_nodes": {k: v for k, v in sorted(qcounts.items()) if k in ("MatMulInteger", "DynamicQuantizeMatMul", "QAttention", "DynamicQuantizeLinear")},
                "float_matmuls_left": qcounts.get("MatMul", 0),
            }
        os.replace(final, out)
    return {
        "file": out.name,
        "source_onnx": onnx_path.name,
        "model_type": model_type,
        "num_heads": heads,
        "hidden_size": hidden,
        "attention_blocks": fused.attention_blocks,
        "attention_fused": fused.fused,
        "fused_operators": {op: counts[op] for op in _FUSED_OPS if counts.get(op, 0) > 0},
        "optimizer": "onnxruntime.transformers.optimizer (model_type bert, opt_level 0) after trtforge_export.attention_fusion",
        "quantization": quantized,
        "onnxruntime": onnxruntime.__version__,
        "onnx": onnx.__version__,
        "seconds": round(time.perf_counter() - started, 3),
    }


def main(argv: Sequence[str]) -> int:
    return run_tool(
        argv,
        tool="trtforge_export.cpu_serving",
        parse=_parse,
        usage_fix="pass --onnx, --model and --out",
        inputs=lambda args: ((args.onnx, "ONNX"), (args.model / "config.json", "model config")),
        work=lambda args, proto: optimize(args.onnx, args.model, args.out, args.quantization, proto),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
