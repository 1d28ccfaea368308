"""What the W8A8 benchmark scripts share (int8-error-sources.py, int8-w8a8-search.py, modelopt_int8.py):
their input options, rows of real AG News tokens as fillShape fills the profile shapes, insertQdq's
Q/DQ form simulated in onnxruntime (fake quantization), and the MatMul classes of the exporter's
MiniLM graph."""
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_input_args(ap):
    """--onnx (the calibration tests' export of MiniLM), --model and --articles."""
    ap.add_argument("--onnx", default=os.path.join(ROOT, ".tools/models/all-MiniLM-L6-v2.onnx-fp32/model.onnx"))
    ap.add_argument("--model", default=os.path.join(ROOT, ".tools/models/all-MiniLM-L6-v2"))
    ap.add_argument("--articles", default=os.path.join(ROOT, "conf/samples/ag_news_1000.jsonl"))


class Rows:
    """The model's tokenizer, filling rows of real tokens."""

    def __init__(self, model_dir):
        self.tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        self.tok.no_padding()
        self.tok.no_truncation()
        self.cls, self.sep = self.tok.token_to_id("[CLS]"), self.tok.token_to_id("[SEP]")

    def fill(self, txts, rows, length, start=0):
        """fillShape's rows: consecutive articles joined, [CLS] ... [SEP]; a 1-token row is [CLS] alone."""
        out, k = [], start
        for _ in range(rows):
            row = []
            while len(row) < length - 2:
                row += self.tok.encode(txts[k % len(txts)], add_special_tokens=False).ids
                k += 1
            out.append([self.cls] if length == 1 else [self.cls] + row[: length - 2] + [self.sep])
        ids = np.array(out, dtype=np.int64)
        return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}


def session(m, outs=(), optimize=True):
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    for o in outs:
        m2.graph.output.append(helper.make_tensor_value_info(o, TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    if not optimize:
        # Q/DQ pairs stay fake quantization (no fusion into integer kernels).
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(m2.SerializeToString(), so, providers=["CPUExecutionProvider"])


def qdq(m, amax, float_nodes=frozenset()):
    """insertQdq's form: per-tensor symmetric activations, per-output-channel weights (fake-quantized)."""
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    g = m2.graph
    inits = {t.name: t for t in g.initializer}
    done, after, extra = {}, {}, []
    for n in list(g.node):
        if n.op_type != "MatMul" or n.name in float_nodes:
            continue
        if not all((i in inits) or (i in amax) for i in n.input):
            continue
        for j, i in enumerate(n.input):
            if i in inits:
                w = numpy_helper.to_array(inits[i])
                s = np.maximum(np.abs(w).max(axis=0) / 127, 1e-12).astype(np.float32)
                inits[i].CopyFrom(numpy_helper.from_array((np.clip(np.round(w / s), -127, 127) * s).astype(np.float32), i))
            else:
                if i not in done:
                    extra += [numpy_helper.from_array(np.array(amax[i] / 127, dtype=np.float32), i + "_s"),
                              numpy_helper.from_array(np.array(0, dtype=np.int8), i + "_z")]
                    after[i] = [helper.make_node("QuantizeLinear", [i, i + "_s", i + "_z"], [i + "_q"]),
                                helper.make_node("DequantizeLinear", [i + "_q", i + "_s", i + "_z"], [i + "_dq"])]
                    done[i] = i + "_dq"
                n.input[j] = done[i]
    g.initializer.extend(extra)
    nodes = list(g.node)
    del g.node[:]
    for n in nodes:
        g.node.append(n)
        for o in n.output:
            g.node.extend(after.get(o, []))
    return m2


def cosines(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(1)


class MatMulGraph:
    """The exporter's MiniLM graph: its initializers, producers, MatMuls and their activation inputs."""

    def __init__(self, model):
        graph = model.graph
        self.init = {t.name: t for t in graph.initializer}
        self.producer = {o: n for n in graph.node for o in n.output}
        self.matmuls = [n for n in graph.node if n.op_type == "MatMul"]
        self.acts = sorted({i for n in self.matmuls for i in n.input if i not in self.init})

    def kind(self, n):
        """QK, PV, FFN2, O (attention output), QKV or FFN1, from the MatMul's inputs."""
        a = [i for i in n.input if i not in self.init]
        if len(a) == 2:
            return "QK" if self.producer[a[0]].op_type == "Mul" else "PV"
        if a[0].startswith("gelu"):
            return "FFN2"
        if a[0].startswith("view"):
            return "O"
        return "QKV" if sum(a[0] in x.input for x in self.matmuls) == 3 else "FFN1"
