"""The export run: load -> export -> check -> reference -> report, written to a staging folder
inside --out and moved into place only when everything succeeded."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import transformers

from .errors import ExportError
from .folder import hf_cache_identity
from .loading import load_all
from .onnx_export import (
    check_onnx,
    choose_external,
    describe_io,
    export_onnx,
    weight_bytes,
)
from .options import Options
from .plan import Plan
from .protocol import Level, Protocol
from .reference import compute_reference, compute_shape_reference, tokenize
from .versions import sha256_file, versions
from .wrapper import ExportWrapper, output_names

REPORT_FILE = "report.json"
# Fixed example texts for tracing: the graph must not depend on the samples. Two texts of
# different lengths, so batch (2) and sequence differ and padding is present.
EXAMPLE_TEXTS = ("The quick brown fox jumps over the lazy dog near the river bank.", "Markets rallied today.")
_ROBERTA_LIKE = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "roberta-prelayernorm", "data2vec-text",
                 "longformer", "ibert", "mpnet"}


class _ProtocolLogHandler(logging.Handler):
    def __init__(self, proto: Protocol) -> None:
        super().__init__(level=logging.INFO)
        self._proto = proto

    def emit(self, record: logging.LogRecord) -> None:
        level: Level = ("error" if record.levelno >= logging.ERROR else "warning" if record.levelno >= logging.WARNING
                        else "info" if record.levelno >= logging.INFO else "debug")
        self._proto.log(level, record.getMessage())


def run(options: Options, plan: Plan, proto: Protocol, texts: list[str] | None) -> dict[str, Any]:
    pkg_log = logging.getLogger("trtforge_export")
    pkg_log.setLevel(logging.INFO)
    pkg_log.addHandler(_ProtocolLogHandler(proto))
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    torch.manual_seed(0)

    options.out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".trtforge-export-", dir=options.out))
    try:
        report = _run_in(options, plan, proto, texts, staging)
        mode = 0o666 & ~_umask()
        for name in sorted(os.listdir(staging)):
            os.chmod(staging / name, mode)  # safetensors writes 0600; give every file the same mode
            os.replace(staging / name, options.out / name)
        return report
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run_in(options: Options, plan: Plan, proto: Protocol, texts: list[str] | None, staging: Path) -> dict[str, Any]:
    log = logging.getLogger("trtforge_export.run")
    model_dir, folder, task, pooling = plan.model_dir, plan.folder, plan.task, plan.pooling

    # load
    log.info("task %s%s; architectures %s; pooling %s", task, " (auto)" if options.task == "auto" else "",
             folder.architectures, pooling.as_report() if pooling else None)
    proto.progress("load", 1, 3, "loading config and tokenizer")
    loaded = load_all(folder, task)
    proto.progress("load", 2, 3, f"loaded {type(loaded.model).__name__} from {folder.weight_file}")
    _check_seq_len(max([options.seq_len, *(s.seq_len for s in options.shapes)]), loaded.config)
    classification = task == "sequence-classification"
    wrapper = ExportWrapper(loaded.model, classification=classification, pooling=pooling).eval()
    outputs = output_names(classification, pooling)
    nbytes = weight_bytes(wrapper)
    external = choose_external(options.external_data, nbytes)
    log.info("inputs %s; outputs %s; weights %.1f MB; external data %s", list(loaded.input_names), list(outputs),
             nbytes / 1e6, external)
    proto.progress("load", 3, 3, "model ready")

    # export
    start = time.monotonic()
    example_enc = tokenize(loaded.tokenizer, list(EXAMPLE_TEXTS), loaded.input_names, options.seq_len)
    example = tuple(example_enc[n] for n in loaded.input_names)
    onnx_result = export_onnx(
        wrapper, example, loaded.input_names, outputs, options.opset, staging, external,
        on_step=lambda step, msg: proto.progress("export", step, 3, msg),
    )
    export_seconds = time.monotonic() - start
    proto.progress("export", 3, 3, f"exported in {export_seconds:.1f} s")

    # check
    proto.progress("check", 0, 1, "onnx.checker.check_model (full)")
    check_onnx(onnx_result.onnx_path)
    inputs_io, outputs_io = describe_io(onnx_result.onnx_path)
    proto.progress("check", 1, 1, "onnx.checker passed")

    # reference
    reference: dict[str, Any] | None = None
    reference_seconds = 0.0
    if texts is not None:
        start = time.monotonic()
        n_batches = (len(texts) + options.batch_size - 1) // options.batch_size
        proto.progress("reference", 0, n_batches, f"{len(texts)} samples in batches of {options.batch_size}")
        ref = compute_reference(
            wrapper, loaded.tokenizer, texts, loaded.input_names, outputs, options.seq_len, options.batch_size,
            staging, on_batch=lambda i, n: proto.progress("reference", i, n, f"batch {i}/{n}"),
        )
        shapes = []
        for case in options.shapes:
            proto.progress("reference", n_batches, n_batches, f"shape {case.name} [{case.batch}, {case.seq_len}]")
            shape_ref = compute_shape_reference(wrapper, loaded.tokenizer, texts, loaded.input_names, outputs, case.name,
                                                case.batch, case.seq_len, staging)
            shapes.append({"name": case.name, "batch": case.batch, "seq_len": case.seq_len, "file": shape_ref.path.name,
                           "sha256": sha256_file(shape_ref.path)})
        reference_seconds = time.monotonic() - start
        reference = {
            "file": ref.path.name,
            "samples": ref.samples,
            "seq_len": ref.seq_len,
            "max_seq_len": options.seq_len,
            "batch_size": options.batch_size,
            "sha256": sha256_file(ref.path),
            "shapes": shapes,
            "tensors": {k: {"dtype": d, "shape": s} for k, (d, s) in ref.tensors.items()},
            "padding": {
                "side": getattr(loaded.tokenizer, "padding_side", "right"),
                "pad_token_id": int(loaded.tokenizer.pad_token_id),
                "outputs": "sequence-axis outputs are 0 where attention_mask is 0: compare them where it is 1",
            },
        }
    else:
        log.warning("no --samples: no reference outputs were computed")

    # report
    proto.progress("report", 0, 1, "writing report.json")
    cache_id, cache_rev = hf_cache_identity(options.model)
    config = loaded.config
    report: dict[str, Any] = {
        "model_dir": str(model_dir),
        "model_id": options.model_id or cache_id,
        "hf_revision": options.revision or cache_rev,
        "task": task,
        "architecture": loaded.architecture,
        "model_type": config.model_type,
        "opset": onnx_result.opset,
        "onnx_file": onnx_result.onnx_path.name,
        "onnx_sha256": sha256_file(onnx_result.onnx_path),
        "external_data": onnx_result.data_path is not None,
        "onnx_data_file": onnx_result.data_path.name if onnx_result.data_path else None,
        "onnx_data_sha256": sha256_file(onnx_result.data_path) if onnx_result.data_path else None,
        "inputs": inputs_io,
        "outputs": outputs_io,
        "reference": reference,
        "hidden_size": getattr(config, "hidden_size", None),
        "num_labels": int(config.num_labels or 0) if classification else None,
        "id2label": {str(k): str(v) for k, v in (config.id2label or {}).items()} if classification else None,
        "pooling": pooling.as_report() if pooling else None,
        "versions": versions(),
        "export_seconds": round(export_seconds, 3),
        "reference_seconds": round(reference_seconds, 3),
    }
    (staging / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    proto.progress("report", 1, 1, "done")
    return report


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_seq_len(seq_len: int, config: Any) -> None:
    limit = getattr(config, "max_position_embeddings", None)
    if not isinstance(limit, int):
        return
    if config.model_type in _ROBERTA_LIKE:  # positions start after the padding index
        pad = getattr(config, "pad_token_id", None)
        limit -= (1 if pad is None else int(pad)) + 1
    if seq_len > limit:
        raise ExportError("BAD_INPUT", f"--seq-len {seq_len} exceeds the model's {limit} positions",
                          f"pass --seq-len {limit} or less")
