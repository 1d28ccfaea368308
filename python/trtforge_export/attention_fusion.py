"""Fuses the self-attention blocks of a torch.export (dynamo) BERT-type graph into ONNX Runtime's
com.microsoft.Attention operator.

onnxruntime.transformers.optimizer recognizes the attention subgraphs of the older TorchScript
exporter, not the scaled_dot_product_attention decomposition (Mul-scaled Q and K, a boolean mask
through Where, Softmax, an IsNaN guard) that torch 2.x's dynamo exporter writes, so it fuses only
LayerNorm and GELU there. This pass matches the decomposition structurally from each Softmax:

    scores = MatMul(Q', K'); Softmax(scores + mask) -> ... -> MatMul(probs, V') -> Transpose -> Reshape -> ctx

where Q', K', V' each go back, through Reshape/Transpose/Mul/Slice/Concat/Shape only, to
Add(MatMul(X, W), b) with constant W [hidden, hidden] and b [hidden] on one shared input X. Each match
becomes Attention(X, [Wq|Wk|Wv], [bq|bk|bv], mask_index) -> ctx with the raw 2-D attention mask;
everything the old subgraph used alone is removed. A block that does not match is left as it was
(and counted), so a model of another shape is never rewritten by guesswork; the accuracy check
against the fp32 export decides whether the result is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper

_PASS_THROUGH = {"Reshape", "Transpose", "Mul", "Div"}
MASK_INT32 = "trtforge_attention_mask_int32"


@dataclass
class FusionResult:
    model: onnx.ModelProto
    attention_blocks: int
    fused: int


class _Graph:
    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        g = model.graph
        self.inits = {t.name: t for t in g.initializer}
        self.producer: dict[str, onnx.NodeProto] = {}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for n in g.node:
            for o in n.output:
                self.producer[o] = n
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)
        for n in g.node:
            if n.op_type == "Constant":
                for a in n.attribute:
                    if a.name == "value":
                        self.inits.setdefault(n.output[0], a.t)

    def const(self, name: str) -> np.ndarray | None:
        t = self.inits.get(name)
        return None if t is None else numpy_helper.to_array(t)

    def scalar_factor(self, node: onnx.NodeProto) -> float | None:
        """The constant scalar a Mul multiplies (or a Div divides) by; None otherwise."""
        for i, name in enumerate(node.input):
            v = self.const(name)
            if v is not None and v.size == 1:
                if node.op_type == "Mul":
                    return float(v.reshape(()))
                if node.op_type == "Div" and i == 1:
                    return 1.0 / float(v.reshape(()))
        return None

    def projection(self, tensor: str) -> tuple[onnx.NodeProto, onnx.NodeProto, float] | None:
        """Walks back from `tensor` through reshapes, transposes and scalar scalings to
        Add(MatMul(X, W), b); returns (matmul, add, product of the scalings)."""
        scale = 1.0
        seen = 0
        while seen < 12:
            seen += 1
            node = self.producer.get(tensor)
            if node is None:
                return None
            if node.op_type == "Add":
                mm = next((self.producer.get(i) for i in node.input if self.producer.get(i) is not None and self.producer[i].op_type == "MatMul"), None)
                if mm is None:
                    return None
                w = self.const(mm.input[1])
                b = next((self.const(i) for i in node.input if self.const(i) is not None), None)
                if w is None or b is None or w.ndim != 2 or b.ndim != 1 or b.shape[0] != w.shape[1]:
                    return None
                return mm, node, scale
            if node.op_type not in _PASS_THROUGH:
                return None
            if node.op_type in ("Mul", "Div"):
                factor = self.scalar_factor(node)
                if factor is None:
                    return None
                scale *= factor
                tensor = next(i for i in node.input if self.const(i) is None)
            else:
                tensor = node.input[0]
        return None


def _forward_to_context(g: _Graph, probs: str) -> tuple[onnx.NodeProto, str] | None:
    """From the Softmax output, through an optional IsNaN/Where guard, to MatMul(probs, V') and on
    through Transpose and Reshape to the [batch, seq, hidden] context; returns (that MatMul, ctx)."""
    tensor = probs
    for _ in range(4):
        users = g.consumers.get(tensor, [])
        matmul = next((u for u in users if u.op_type == "MatMul" and u.input[0] == tensor), None)
        if matmul is not None:
            break
        where = next((u for u in users if u.op_type == "Where"), None)
        if where is None:
            return None
        tensor = where.output[0]
    else:
        return None
    out = matmul.output[0]
    users = g.consumers.get(out, [])
    if len(users) != 1 or users[0].op_type != "Transpose":
        return None
    users = g.consumers.get(users[0].output[0], [])
    if len(users) != 1 or users[0].op_type != "Reshape":
        return None
    return matmul, users[0].output[0]


def fuse_attention(model: onnx.ModelProto, num_heads: int, mask_input: str = "attention_mask") -> FusionResult:
    g = _Graph(model)
    graph = model.graph
    if mask_input not in {i.name for i in graph.input}:
        return FusionResult(model, 0, 0)
    softmaxes = [n for n in graph.node if n.op_type == "Softmax"]
    new_nodes: list[tuple[onnx.NodeProto, onnx.NodeProto]] = []  # (node to insert before, Attention)
    fused = 0
    for index, sm in enumerate(softmaxes):
        ctx = _forward_to_context(g, sm.output[0])
        scores_add = g.producer.get(sm.input[0])
        if ctx is None or scores_add is None or scores_add.op_type != "Add":
            continue
        pv_matmul, ctx_name = ctx
        scores_mm = next((g.producer[i] for i in scores_add.input if i in g.producer and g.producer[i].op_type == "MatMul"), None)
        if scores_mm is None:
            continue
        q, k, v = g.projection(scores_mm.input[0]), g.projection(scores_mm.input[1]), g.projection(pv_matmul.input[1])
        if q is None or k is None or v is None:
            continue
        x = q[0].input[0]
        if k[0].input[0] != x or v[0].input[0] != x:
            continue
        wq, wk, wv = (g.const(p[0].input[1]) for p in (q, k, v))
        bq, bk, bv = (next(g.const(i) for i in p[1].input if g.const(i) is not None) for p in (q, k, v))
        assert wq is not None and wk is not None and wv is not None
        hidden = wq.shape[1]
        if wk.shape != wq.shape or wv.shape != wq.shape or hidden % num_heads != 0:
            continue
        scale = q[2] * k[2]
        default_scale = 1.0 / math.sqrt(hidden // num_heads)
        weight_name, bias_name = f"trtforge_attention_{index}_qkv_weight", f"trtforge_attention_{index}_qkv_bias"
        graph.initializer.append(numpy_helper.from_array(np.concatenate([wq, wk, wv], axis=1).astype(np.float32), weight_name))
        graph.initializer.append(numpy_helper.from_array(np.concatenate([bq, bk, bv]).astype(np.float32), bias_name))
        attrs: dict[str, object] = {"num_heads": num_heads}
        if not math.isclose(scale, default_scale, rel_tol=1e-5):
            attrs["scale"] = scale
        fused_ctx = f"trtforge_attention_{index}_context"
        node = helper.make_node("Attention", [x, weight_name, bias_name, MASK_INT32], [fused_ctx], name=f"trtforge_Attention_{index}", domain="com.microsoft", **attrs)
        for user in g.consumers.get(ctx_name, []):
            for j, name in enumerate(user.input):
                if name == ctx_name:
                    user.input[j] = fused_ctx
        new_nodes.append((g.consumers[fused_ctx][0] if fused_ctx in g.consumers else g.consumers.get(ctx_name, [None])[0], node))  # type: ignore[list-item]
        fused += 1
    if fused == 0:
        return FusionResult(model, len(softmaxes), 0)
    cast = helper.make_node("Cast", [mask_input], [MASK_INT32], name="trtforge_attention_mask_cast", to=onnx.TensorProto.INT32)
    nodes = [cast, *graph.node]
    # Each Attention node goes right before the first node that reads its context (topological order).
    readers = {}
    for n in nodes:
        for att in (a for _, a in new_nodes):
            if att.output[0] in n.input and att.output[0] not in readers:
                readers[att.output[0]] = id(n)
    ordered: list[onnx.NodeProto] = []
    pending = {a.output[0]: a for _, a in new_nodes}
    for n in nodes:
        for name, att in list(pending.items()):
            if readers.get(name) == id(n):
                ordered.append(att)
                del pending[name]
        ordered.append(n)
    del graph.node[:]
    graph.node.extend(_prune(ordered, [o.name for o in graph.output]))
    used = {i for n in graph.node for i in n.input}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return FusionResult(model, len(softmaxes), fused)


def _prune(nodes: list[onnx.NodeProto], outputs: list[str]) -> list[onnx.NodeProto]:
    """Drops every node whose outputs nothing reads (the replaced attention subgraphs)."""
    needed = set(outputs)
    keep: list[onnx.NodeProto] = []
    for n in reversed(nodes):
        if any(o in needed for o in n.output):
            keep.append(n)
            needed.update(i for i in n.input if i)
    return list(reversed(keep))
