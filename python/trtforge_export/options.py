"""Command-line options, parsed and validated without importing torch (so bad options fail fast)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn, Sequence

from .errors import ExportError

Task = Literal["auto", "feature-extraction", "sequence-classification"]
ExternalData = Literal["auto", "always", "never"]

MIN_OPSET = 14
DEFAULT_OPSET = 17


@dataclass(frozen=True)
class ShapeCase:
    """One [batch, sequence] shape the ONNX must be checked at (an optimization profile's min/opt/max)."""

    name: str
    batch: int
    seq_len: int


@dataclass(frozen=True)
class Options:
    model: Path
    out: Path
    task: Task
    opset: int
    samples: Path | None
    max_samples: int
    seq_len: int
    batch_size: int
    model_id: str | None
    revision: str | None
    external_data: ExternalData
    shapes: tuple[ShapeCase, ...] = ()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ExportError("BAD_INPUT", f"bad options: {message}", f"usage: {self.format_usage().strip()}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m trtforge_export",
        description="Export a local Hugging Face model folder to ONNX, with PyTorch reference outputs. "
        "stdout carries JSON lines only.",
    )
    p.add_argument("--model", required=True, type=Path, help="local model folder (config.json, weights, tokenizer)")
    p.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    p.add_argument("--task", default="auto", choices=["auto", "feature-extraction", "sequence-classification"])
    p.add_argument("--opset", default=DEFAULT_OPSET, type=int, help=f"ONNX opset, >= {MIN_OPSET} (default {DEFAULT_OPSET})")
    p.add_argument("--samples", type=Path, help='JSONL file of {"text": ...} rows for the reference outputs')
    p.add_argument("--max-samples", default=64, type=int, help="reference outputs on the first N samples (default 64)")
    p.add_argument("--seq-len", default=128, type=int, help="truncate samples to this many tokens (default 128)")
    p.add_argument("--batch-size", default=16, type=int, help="reference batch size (default 16)")
    p.add_argument("--model-id", help="Hugging Face model id to record (default: from an HF cache path, else null)")
    p.add_argument("--revision", help="HF revision to record (default: from an HF cache path, else null)")
    p.add_argument("--external-data", default="auto", choices=["auto", "always", "never"],
                   help="weights in model.onnx.data: auto (when over 2 GB), always, never")
    p.add_argument("--shapes", default="", help="also compute references at these full shapes, NAME:BATCHxSEQ,... "
                   "(e.g. min:1x1,opt:8x128,max:16x256), each row real samples joined to fill SEQ tokens")
    return p


def _parse_shapes(text: str) -> tuple[ShapeCase, ...]:
    shapes: list[ShapeCase] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, dims = item.partition(":")
        batch, _, seq = dims.partition("x")
        if not name.isidentifier() or not batch.isdigit() or not seq.isdigit() or int(batch) < 1 or int(seq) < 1:
            raise ExportError("BAD_INPUT", f"--shapes item {item!r} is not NAME:BATCHxSEQ with positive integers",
                              "pass e.g. --shapes min:1x1,opt:8x128,max:16x256")
        if any(s.name == name for s in shapes):
            raise ExportError("BAD_INPUT", f"--shapes names {name!r} twice", "give each shape its own name")
        shapes.append(ShapeCase(name=name, batch=int(batch), seq_len=int(seq)))
    return tuple(shapes)


def parse_options(argv: Sequence[str]) -> Options:
    ns = _parser().parse_args(list(argv))
    max_opset = _max_opset()
    if ns.opset < MIN_OPSET or ns.opset > max_opset:
        raise ExportError(
            "BAD_INPUT",
            f"--opset {ns.opset} is out of range: {MIN_OPSET}..{max_opset} are supported",
            f"pass --opset between {MIN_OPSET} and {max_opset} (default {DEFAULT_OPSET})",
        )
    for name, value, low in (("--max-samples", ns.max_samples, 1), ("--seq-len", ns.seq_len, 2),
                             ("--batch-size", ns.batch_size, 1)):
        if value < low:
            raise ExportError("BAD_INPUT", f"{name} must be >= {low}, got {value}", f"pass {name} >= {low}")
    for name, value in (("--model-id", ns.model_id), ("--revision", ns.revision)):
        if value is not None and (not value.strip() or any(c.isspace() for c in value)):
            raise ExportError("BAD_INPUT", f"{name} must be a non-empty word, got {value!r}", f"fix {name}")
    shapes = _parse_shapes(ns.shapes)
    if shapes and ns.samples is None:
        raise ExportError("BAD_INPUT", "--shapes needs --samples: each shape is filled with real text",
                          "pass --samples FILE.jsonl")
    if ns.samples is not None and not ns.samples.is_file():
        raise ExportError("BAD_INPUT", f"samples file {str(ns.samples)!r} does not exist",
                          "pass --samples FILE.jsonl with one {\"text\": ...} object per line")
    if ns.out.exists() and not ns.out.is_dir():
        raise ExportError("BAD_INPUT", f"--out {str(ns.out)!r} exists and is not a folder", "pass a folder for --out")
    return Options(
        model=ns.model,
        out=ns.out,
        task=ns.task,
        opset=ns.opset,
        samples=ns.samples,
        max_samples=ns.max_samples,
        seq_len=ns.seq_len,
        batch_size=ns.batch_size,
        model_id=ns.model_id,
        revision=ns.revision,
        external_data=ns.external_data,
        shapes=shapes,
    )


def _max_opset() -> int:
    """The newest opset that both onnx and the pinned onnxruntime (1.30: opset 23) understand."""
    try:
        import onnx.defs

        return min(int(onnx.defs.onnx_opset_version()), 23)
    except Exception:  # pragma: no cover - onnx missing is reported later as INTERNAL
        return 23
