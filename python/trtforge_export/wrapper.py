"""The module that is exported and that computes the reference: the model plus, for
sentence-transformers folders, pooling and normalisation in the graph."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from .pooling import PoolingSpec

# sentence-transformers: masked positions get -1e9 before max pooling; token counts are clamped
# to 1e-9; Normalize is torch.nn.functional.normalize(p=2, dim=1) with eps 1e-12.
_MAX_POOL_FILL = -1e9
_COUNT_EPS = 1e-9
_NORM_EPS = 1e-12


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, spec: PoolingSpec) -> torch.Tensor:
    """sentence-transformers' Pooling (+ Normalize), written with ops every opset >= 14 has."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    vectors: list[torch.Tensor] = []
    summed: torch.Tensor | None = None
    count: torch.Tensor | None = None
    for mode in spec.modes:
        if mode == "cls":
            vectors.append(hidden[:, 0])
        elif mode == "max":
            vectors.append(hidden.masked_fill(mask == 0, _MAX_POOL_FILL).amax(dim=1))
        else:
            if summed is None or count is None:
                summed = (hidden * mask).sum(dim=1)
                count = mask.sum(dim=1).clamp(min=_COUNT_EPS)
            vectors.append(summed / count if mode == "mean" else summed / torch.sqrt(count))
    out = vectors[0] if len(vectors) == 1 else torch.cat(vectors, dim=1)
    if spec.normalize:
        # Not ReduceL2: the ONNX version converter mishandles it below opset 18.
        out = out / torch.sqrt((out * out).sum(dim=1, keepdim=True)).clamp(min=_NORM_EPS)
    return out


class ExportWrapper(nn.Module):
    """forward(input_ids, attention_mask[, token_type_ids]) -> tuple of the named outputs."""

    def __init__(self, model: nn.Module, classification: bool, pooling: PoolingSpec | None) -> None:
        super().__init__()
        self.model = model
        self.classification = classification
        self.pooling = pooling

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        kwargs: dict[str, torch.Tensor] = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        out = self.model(**kwargs, return_dict=True)
        if self.classification:
            return (out.logits,)
        hidden: torch.Tensor = out.last_hidden_state
        if self.pooling is None:
            return (hidden,)
        return (hidden, pool(hidden, attention_mask, self.pooling))


def output_names(classification: bool, pooling: PoolingSpec | None) -> tuple[str, ...]:
    if classification:
        return ("logits",)
    return ("last_hidden_state", "sentence_embedding") if pooling is not None else ("last_hidden_state",)


class DecomposedLayerNorm(nn.Module):
    """LayerNorm from ReduceMean/Sub/Pow/Sqrt/Div, for opsets before 17 (no LayerNormalization)."""

    def __init__(self, ln: nn.LayerNorm) -> None:
        super().__init__()
        self.dims = tuple(range(-len(ln.normalized_shape), 0))
        self.eps = ln.eps
        self.weight = ln.weight
        self.bias = ln.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=self.dims, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dim=self.dims, keepdim=True)
        y = centered / torch.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y


@contextlib.contextmanager
def decomposed_layer_norms(root: nn.Module) -> Iterator[int]:
    """Swap every nn.LayerNorm under ``root`` for a DecomposedLayerNorm; restore on exit."""
    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    for parent in list(root.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.LayerNorm):
                setattr(parent, name, DecomposedLayerNorm(child))
                swapped.append((parent, name, child))
    try:
        yield len(swapped)
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)
