"""python -m trtforge_export.gpu_serving: the GPU-serving form of an exported ONNX, and its accuracy.

The graph is fused as for the CPU (attention through attention_fusion, then onnxruntime.transformers'
SkipLayerNormalization, BiasGelu and LayerNormalization fusions), then converted to fp16 with
onnxruntime.transformers' convert_float_to_float16, inputs and outputs kept as they were (int64 ids
in, fp32 out), so a client and the runtime see the same tensors as from the fp32 export. Nothing here
needs a GPU: the fusions are graph rewrites, and ONNX Runtime's CUDA kernels are chosen when a session
loads the file.

Accuracy is measured here, against PyTorch fp32 (the model loaded from the same folder, through the
exporter's own wrapper): on the held-out articles (--texts, padded per batch as at serving time) and
at each profile shape (--shapes NAME:BATCHxSEQ, rows of real articles joined to fill every token).
Each candidate is run on whatever providers this ONNX Runtime has: always the CPU (ONNX Runtime's
CPU provider has fp16 kernels for every operator the converted graph uses), and the CUDA provider
where onnxruntime-gpu and a GPU are present. The fused fp32 graph is measured too, so a failing gate
says whether the fusion or the fp16 conversion lost the accuracy.

Speaks the exporter's JSON-lines protocol on stdout: one `result` line, or one `error` line.
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

from .errors import ExportError
from .protocol import Protocol
from .tool_main import run_tool

_FUSED_OPS = ("Attention", "SkipLayerNormalization", "BiasGelu", "Gelu", "FastGelu", "LayerNormalization", "EmbedLayerNormalization")
# Outputs compared per row (cosine of the row vector); last_hidden_state is compared per real token.
_PER_TOKEN = "last_hidden_state"


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m trtforge_export.gpu_serving")
    p.add_argument("--onnx", required=True, type=Path, help="the fp32 ONNX of the export stage")
    p.add_argument("--model", required=True, type=Path, help="the Hugging Face folder it was exported from")
    p.add_argument("--out", required=True, type=Path, help="the fp16 ONNX file to write")
    p.add_argument("--texts", required=True, type=Path, help="JSON array of held-out article texts")
    p.add_argument("--shapes", required=True, help="profile shapes NAME:BATCHxSEQ,... (e.g. min:1x16,opt:8x128,max:32x256)")
    p.add_argument("--seq-len", type=int, default=128, help="longest sequence for the held-out articles")
    p.add_argument("--batch-size", type=int, default=32, help="batch size for the held-out articles")
    return p.parse_args(list(argv))


def _heads_and_hidden(model_dir: Path) -> tuple[int, int, str]:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    heads = config.get("num_attention_heads", config.get("n_heads"))
    hidden = config.get("hidden_size", config.get("dim"))
    if not isinstance(heads, int) or not isinstance(hidden, int):
        raise ExportError("BAD_INPUT", f"{model_dir / 'config.json'} names no num_attention_heads/hidden_size",
                          "export a BERT-type model (config.json with num_attention_heads and hidden_size)")
    return heads, hidden, str(config.get("model_type", "bert"))


def convert(onnx_path: Path, model_dir: Path, tmp: Path, proto: Protocol) -> tuple[Path, Path, dict[str, Any]]:
    """Writes the fused fp32 and the fused fp16 graphs into tmp; returns their paths and what was done."""
    import onnx
    import onnxruntime
    from onnxruntime.transformers import optimizer

    from .attention_fusion import fuse_attention

    heads, hidden, model_type = _heads_and_hidden(model_dir)
    proto.progress("gpu-serving", 1, 4, "fusing attention")
    fused = fuse_attention(onnx.load(str(onnx_path)), heads)
    del fused.model.graph.value_info[:]
    attention_path = tmp / "attention.onnx"
    onnx.save(fused.model, str(attention_path))
    proto.progress("gpu-serving", 2, 4, "fusing LayerNorm and GELU")
    # opt_level 0: only the Python fusions; ORT's own optimizations run when the serving session loads.
    optimized = optimizer.optimize_model(str(attention_path), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0)
    del optimized.model.graph.value_info[:]
    fp32_path = tmp / "fused-fp32.onnx"
    optimized.save_model_to_file(str(fp32_path))
    counts = collections.Counter(n.op_type for n in optimized.model.graph.node)
    proto.progress("gpu-serving", 3, 4, "converting to fp16 (inputs and outputs kept)")
    optimized.convert_float_to_float16(keep_io_types=True)
    fp16_path = tmp / "fused-fp16.onnx"
    optimized.save_model_to_file(str(fp16_path))
    fp16_model = onnx.load(str(fp16_path))
    float_inits = collections.Counter(onnx.TensorProto.DataType.Name(t.data_type) for t in fp16_model.graph.initializer
                                      if t.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16))
    io = {
        "inputs": {i.name: onnx.TensorProto.DataType.Name(i.type.tensor_type.elem_type) for i in fp16_model.graph.input},
        "outputs": {o.name: onnx.TensorProto.DataType.Name(o.type.tensor_type.elem_type) for o in fp16_model.graph.output},
    }
    report = {
        "model_type": model_type,
        "num_heads": heads,
        "hidden_size": hidden,
        "attention_blocks": fused.attention_blocks,
        "attention_fused": fused.fused,
        "fused_operators": {op: counts[op] for op in _FUSED_OPS if counts.get(op, 0) > 0},
        "optimizer": "onnxruntime.transformers.optimizer (model_type bert, opt_level 0) after trtforge_export.attention_fusion",
        "float16": {
            "method": "onnxruntime.transformers OnnxModel.convert_float_to_float16(keep_io_types=True)",
            "initializers": dict(sorted(float_inits.items())),
            "io": io,
        },
        "onnxruntime": onnxruntime.__version__,
        "onnx": onnx.__version__,
    }
    return fp32_path, fp16_path, report


def _cosines(ref: Any, got: Any, mask: Any | None) -> Any:
    import numpy as np

    a = ref.astype(np.float64)
    b = got.astype(np.float64)
    if mask is not None:  # one vector per real token
        keep = mask.astype(bool)
        a, b = a[keep], b[keep]
    else:
        a, b = a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)
    num = (a * b).sum(axis=1)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    return np.where(den > 0, num / np.maximum(den, 1e-30), 1.0)


class _Tally:
    """Cosines and label agreement of one candidate, one output, over every case it ran."""

    def __init__(self) -> None:
        self.cos: list[Any] = []
        self.labels_same = 0
        self.labels_total = 0
        self.max_abs = 0.0

    def add(self, name: str, ref: Any, got: Any, mask: Any) -> None:
        import numpy as np

        self.cos.append(_cosines(ref, got, mask if name == _PER_TOKEN else None))
        self.max_abs = max(self.max_abs, float(np.max(np.abs(ref - got))) if ref.size else 0.0)
        if name == "logits":
            self.labels_same += int((ref.argmax(axis=-1) == got.argmax(axis=-1)).sum())
            self.labels_total += int(ref.shape[0])

    def figure(self) -> dict[str, Any]:
        import numpy as np

        c = np.concatenate(self.cos) if self.cos else np.ones(0)
        out: dict[str, Any] = {
            "samples": int(c.size),
            "cosine_mean": float(c.mean()) if c.size else 1.0,
            "cosine_p1": float(np.percentile(c, 1)) if c.size else 1.0,
            "cosine_min": float(c.min()) if c.size else 1.0,
            "max_abs_diff": self.max_abs,
        }
        if self.labels_total:
            out["label_agreement"] = self.labels_same / self.labels_total
        return out


def validate(fp32_path: Path, fp16_path: Path, model_dir: Path, texts: list[str], shapes: Sequence[Any], seq_len: int,
             batch_size: int, proto: Protocol) -> dict[str, Any]:
    """PyTorch fp32 against the fused fp32 and the fp16 graph, on every provider this ORT has."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from .folder import inspect_folder
    from .loading import load_all
    from .plan import resolve_task
    from .pooling import pooling_spec
    from .reference import fill_rows, tokenize, tokenize_full
    from .wrapper import ExportWrapper, output_names

    torch.manual_seed(0)
    folder = inspect_folder(model_dir)
    task = resolve_task("auto", folder)
    pooling = pooling_spec(folder) if task == "feature-extraction" else None
    loaded = load_all(folder, task)
    classification = task == "sequence-classification"
    wrapper = ExportWrapper(loaded.model, classification=classification, pooling=pooling).eval()
    outputs = output_names(classification, pooling)
    names = loaded.input_names

    # The cases: held-out articles in serving-like batches, then each profile shape exactly.
    cases: list[tuple[str, dict[str, Any]]] = []
    for start in range(0, len(texts), batch_size):
        enc = tokenize(loaded.tokenizer, texts[start:start + batch_size], names, seq_len)
        cases.append(("articles", {n: t.numpy() for n, t in enc.items()}))
    for case in shapes:
        enc = tokenize_full(loaded.tokenizer, fill_rows(loaded.tokenizer, texts, case.batch, case.seq_len), names, case.seq_len)
        cases.append((case.name, {n: t.numpy() for n, t in enc.items()}))

    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
    candidates = {"fused-fp32": fp32_path, "fused-fp16": fp16_path}
    sessions: dict[tuple[str, str], Any] = {}
    unavailable: dict[str, str] = {}
    for cname, path in candidates.items():
        for provider in providers:
            try:
                s = ort.InferenceSession(str(path), providers=[provider])
                if provider not in s.get_providers():
                    raise RuntimeError(f"{provider} did not load (session providers: {s.get_providers()})")
                sessions[(cname, provider)] = s
            except Exception as e:  # noqa: BLE001 - a provider that cannot run the graph is reported, not fatal here
                unavailable[f"{cname}@{provider}"] = f"{type(e).__name__}: {e}"[:500]

    tallies: dict[tuple[str, str, str], _Tally] = collections.defaultdict(_Tally)
    per_shape: dict[str, dict[str, dict[str, float]]] = {}
    for index, (case_name, feeds) in enumerate(cases):
        proto.progress("gpu-serving", index + 1, len(cases), f"accuracy: {case_name} {list(feeds['input_ids'].shape)}")
        with torch.no_grad():
            ref = [t.detach().to(torch.float32).numpy() for t in wrapper(*(torch.from_numpy(feeds[n]) for n in names))]
        mask = feeds["attention_mask"]
        for (cname, provider), s in sessions.items():
            got = s.run(list(outputs), {i.name: feeds[i.name] for i in s.get_inputs()})
            for name, r, g in zip(outputs, ref, got):
                tallies[(cname, provider, name)].add(name, r, g.astype(np.float32), mask)
                if case_name != "articles":
                    shape_tally = _Tally()
                    shape_tally.add(name, r, g.astype(np.float32), mask)
                    key = f"{cname}@{provider}"
                    per_shape.setdefault(case_name, {}).setdefault(key, {})[name] = shape_tally.figure()["cosine_min"]

    figures = []
    for (cname, provider, name), tally in sorted(tallies.items()):
        figures.append({"candidate": cname, "provider": provider, "output": name, "reference": "pytorch-fp32", **tally.figure()})
    return {
        "reference": f"PyTorch {torch.__version__} fp32 on the CPU, the exporter's wrapper over {model_dir.name}",
        "articles": len(texts),
        "article_seq_len": seq_len,
        "article_batch_size": batch_size,
        "shapes": [{"name": s.name, "batch": s.batch, "seq_len": s.seq_len} for s in shapes],
        "providers": providers,
        "unavailable": unavailable,
        "figures": figures,
        "shape_cosine_min": per_shape,
        "outputs": list(outputs),
    }


def build(args: argparse.Namespace, proto: Protocol) -> dict[str, Any]:
    from .options import _parse_shapes

    started = time.perf_counter()
    shapes = _parse_shapes(args.shapes)
    texts = json.loads(args.texts.read_text(encoding="utf-8"))
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ExportError("BAD_INPUT", f"{args.texts} is not a non-empty JSON array of texts", "pass the held-out articles")
    with tempfile.TemporaryDirectory(prefix=".trtforge-gpu-", dir=args.out.parent) as tmp:
        fp32_path, fp16_path, report = convert(args.onnx, args.model, Path(tmp), proto)
        accuracy = validate(fp32_path, fp16_path, args.model, texts, shapes, args.seq_len, args.batch_size, proto)
        os.replace(fp16_path, args.out)
    return {
        "file": args.out.name,
        "source_onnx": args.onnx.name,
        **report,
        "validation": accuracy,
        "seconds": round(time.perf_counter() - started, 3),
    }


def main(argv: Sequence[str]) -> int:
    return run_tool(
        argv,
        tool="trtforge_export.gpu_serving",
        parse=_parse,
        usage_fix="pass --onnx, --model, --out, --texts and --shapes",
        inputs=lambda args: ((args.onnx, "ONNX"), (args.model / "config.json", "model config"), (args.texts, "texts file")),
        work=build,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
