"""PyTorch reference outputs on the samples, saved beside the ONNX as reference.safetensors.

Batches are padded to their own longest sample (as at serving time); the saved tensors are then
padded to one common length L (the longest sample): inputs with the pad id / attention 0 /
token type 0. Sequence-axis outputs (last_hidden_state) are 0 wherever attention_mask is 0:
compare them only where it is 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import numpy.typing as npt
import torch
from safetensors.numpy import save_file

from .errors import ExportError
from .onnx_export import SEQUENCE_OUTPUTS
from .wrapper import ExportWrapper

REFERENCE_FILE = "reference.safetensors"


@dataclass(frozen=True)
class Reference:
    path: Path
    samples: int
    seq_len: int
    tensors: dict[str, tuple[str, list[int]]]  # name -> (dtype, shape)


def tokenize(tokenizer: Any, texts: list[str], input_names: tuple[str, ...], max_len: int) -> dict[str, torch.Tensor]:
    enc = tokenizer(texts, padding="longest", truncation=True, max_length=max_len,
                    return_tensors="pt", return_attention_mask=True,
                    return_token_type_ids="token_type_ids" in input_names)
    return {name: enc[name].to(torch.int64) for name in input_names}


def compute_reference(
    wrapper: ExportWrapper,
    tokenizer: Any,
    texts: list[str],
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    max_len: int,
    batch_size: int,
    out_dir: Path,
    on_batch: Callable[[int, int], None],
) -> Reference:
    wrapper.eval()
    batches = [texts[i:i + batch_size] for i in range(0, len(texts), batch_size)]
    inputs: dict[str, list[npt.NDArray[Any]]] = {n: [] for n in input_names}
    outputs: dict[str, list[npt.NDArray[Any]]] = {n: [] for n in output_names}
    with torch.no_grad():
        for index, batch in enumerate(batches):
            enc = tokenize(tokenizer, batch, input_names, max_len)
            result = wrapper(*(enc[n] for n in input_names))
            for n in input_names:
                inputs[n].append(enc[n].numpy())
            for n, t in zip(output_names, result):
                outputs[n].append(t.detach().to(torch.float32).numpy())
            on_batch(index + 1, len(batches))
    length = max(a.shape[1] for a in inputs["input_ids"])
    left = getattr(tokenizer, "padding_side", "right") == "left"
    pads = {"input_ids": int(tokenizer.pad_token_id), "attention_mask": 0,
            "token_type_ids": int(getattr(tokenizer, "pad_token_type_id", 0) or 0)}
    tensors: dict[str, npt.NDArray[Any]] = {}
    for n in input_names:
        tensors[n] = np.concatenate([_pad(a, length, pads[n], left) for a in inputs[n]]).astype(np.int64)
    for n in output_names:
        parts = outputs[n]
        if n in SEQUENCE_OUTPUTS:
            parts = [_pad(a, length, 0.0, left) for a in parts]
        array = np.concatenate(parts).astype(np.float32)
        if n in SEQUENCE_OUTPUTS:  # padded positions carry no meaning: make them 0 everywhere
            array[tensors["attention_mask"] == 0] = 0.0
        tensors[n] = np.ascontiguousarray(array)
    path = out_dir / REFERENCE_FILE
    metadata = {
        "producer": "trtforge_export",
        "samples": str(len(texts)),
        "seq_len": str(length),
        "max_seq_len": str(max_len),
        "padding_side": "left" if left else "right",
        "pad_token_id": str(pads["input_ids"]),
        "inputs": ",".join(input_names),
        "outputs": ",".join(output_names),
        "note": "sequence-axis outputs are zero where attention_mask is 0; compare them only where it is 1",
    }
    save_file(tensors, str(path), metadata=metadata)
    return Reference(path=path, samples=len(texts), seq_len=length,
                     tensors={k: (str(v.dtype), list(v.shape)) for k, v in tensors.items()})


def fill_rows(tokenizer: Any, texts: list[str], batch: int, seq_len: int, start: int = 0) -> list[str]:
    """``batch`` texts of at least ``seq_len`` tokens each: consecutive samples joined by spaces,
    cycling through them, so that every position of the shape carries a real token."""
    lengths: dict[int, int] = {}
    rows: list[str] = []
    index = start
    for _ in range(batch):
        parts: list[str] = []
        count = 0
        # A small margin: joining two texts can merge their boundary tokens.
        while count < seq_len + 8:
            i = index % len(texts)
            if i not in lengths:
                lengths[i] = len(tokenizer(texts[i], add_special_tokens=False)["input_ids"])
            parts.append(texts[i])
            count += max(lengths[i], 1)
            index += 1
        rows.append(" ".join(parts))
    return rows


def tokenize_full(tokenizer: Any, rows: list[str], input_names: tuple[str, ...], seq_len: int) -> dict[str, torch.Tensor]:
    """Exactly ``seq_len`` real tokens per row (attention 1 everywhere). A length below the special
    tokens' count keeps the first tokens of the templated row (``[CLS]`` alone for 1)."""
    specials = int(tokenizer.num_special_tokens_to_add(pair=False))
    enc = tokenize(tokenizer, rows, input_names, max(seq_len, specials + 1))
    sliced = {name: t[:, :seq_len].contiguous() for name, t in enc.items()}
    if sliced["input_ids"].shape[1] != seq_len or not bool((sliced["attention_mask"] == 1).all()):
        raise ExportError("BAD_INPUT", f"the samples do not fill {seq_len} tokens per row", "pass longer or more samples")
    return sliced


def compute_shape_reference(
    wrapper: ExportWrapper,
    tokenizer: Any,
    texts: list[str],
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    name: str,
    batch: int,
    seq_len: int,
    out_dir: Path,
) -> Reference:
    """PyTorch outputs at one full [batch, seq_len] shape, in one forward pass, saved as
    ``reference.<name>.safetensors``: the ONNX is then run at exactly that shape."""
    wrapper.eval()
    enc = tokenize_full(tokenizer, fill_rows(tokenizer, texts, batch, seq_len), input_names, seq_len)
    with torch.no_grad():
        result = wrapper(*(enc[n] for n in input_names))
    tensors: dict[str, npt.NDArray[Any]] = {n: np.ascontiguousarray(enc[n].numpy().astype(np.int64)) for n in input_names}
    for n, t in zip(output_names, result):
        tensors[n] = np.ascontiguousarray(t.detach().to(torch.float32).numpy())
    path = out_dir / f"reference.{name}.safetensors"
    save_file(tensors, str(path), metadata={"producer": "trtforge_export", "shape": name, "batch": str(batch),
                                            "seq_len": str(seq_len), "inputs": ",".join(input_names),
                                            "outputs": ",".join(output_names)})
    return Reference(path=path, samples=batch, seq_len=seq_len,
                     tensors={k: (str(v.dtype), list(v.shape)) for k, v in tensors.items()})


def _pad(a: npt.NDArray[Any], length: int, value: float, left: bool) -> npt.NDArray[Any]:
    missing = length - a.shape[1]
    if missing == 0:
        return a
    widths = [(0, 0)] * a.ndim
    widths[1] = (missing, 0) if left else (0, missing)
    return np.pad(a, widths, constant_values=value)
