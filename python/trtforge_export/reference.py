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


def _pad(a: npt.NDArray[Any], length: int, value: float, left: bool) -> npt.NDArray[Any]:
    missing = length - a.shape[1]
    if missing == 0:
        return a
    widths = [(0, 0)] * a.ndim
    widths[1] = (missing, 0) if left else (0, missing)
    return np.pad(a, widths, constant_values=value)
