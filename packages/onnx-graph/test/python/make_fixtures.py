"""Builds the ONNX files the onnx-graph tests read, into the folder given as argv[1].

- tiny_bert.onnx: a randomly initialised 2-layer BertForSequenceClassification exported the way
  the pipeline exports (torch.onnx dynamo exporter, opset 18, int64 input_ids / attention_mask /
  token_type_ids with dynamic batch and sequence axes), outputs last_hidden_state and logits.
- tiny_bert_external/model.onnx + weights.bin: the same model saved by onnx with external data.
- features.onnx: a hand-made model with what an exporter rarely writes but a round trip must keep:
  metadata_props on model, graph and node, a local function, training_info, doc strings,
  int64 INT64_MAX in int64_data, float_data, double_data and string tensors.
Prints a JSON object of the paths.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification  # noqa: E402

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("last_hidden_state", "logits")


class Wrapper(torch.nn.Module):
    def __init__(self, model: BertForSequenceClassification) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, output_hidden_states=True)
        return out.hidden_states[-1], out.logits


def tiny_bert(out: Path) -> Path:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=96, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, num_labels=3)
    model = BertForSequenceClassification(config).eval()
    with torch.no_grad():
        # Non-zero biases and non-unit norms, so that no two parameters are equal (the
        # exporter would merge them) and every tensor carries signal.
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn_like(p))
            else:
                p.copy_(0.08 * torch.randn_like(p))
    ids = torch.randint(0, 96, (2, 8))
    mask = torch.ones(2, 8, dtype=torch.long)
    mask[1, 5:] = 0
    types = torch.zeros(2, 8, dtype=torch.long)
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    program = torch.onnx.export(Wrapper(model), (ids, mask, types), input_names=list(INPUTS), output_names=list(OUTPUTS),
                                opset_version=18, dynamo=True, dynamic_shapes=tuple({0: batch, 1: sequence} for _ in INPUTS),
                                optimize=True, verify=False, report=False)
    path = out / "tiny_bert.onnx"
    program.save(str(path))
    return path


def external_copy(source: Path, out: Path) -> Path:
    folder = out / "tiny_bert_external"
    folder.mkdir()
    model = onnx.load(str(source))
    path = folder / "model.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=256)
    return path


def features(out: Path) -> Path:
    fn = helper.make_function(
        "trtforge.test", "AddTwice", ["x", "y"], ["z"],
        [helper.make_node("Add", ["x", "y"], ["t"]), helper.make_node("Add", ["t", "y"], ["z"])],
        [helper.make_opsetid("", 18)], doc_string="adds y twice")
    node = helper.make_node("AddTwice", ["a", "b"], ["c"], domain="trtforge.test", name="twice", doc_string="a call")
    node.metadata_props.add(key="node_key", value="node value")
    initializers = [
        helper.make_tensor("b", TensorProto.FLOAT, [3], [0.5, -1.0, 2.0]),  # float_data
        helper.make_tensor("int64_max", TensorProto.INT64, [2], [9223372036854775807, -9223372036854775808]),
        helper.make_tensor("doubles", TensorProto.DOUBLE, [2], [1e300, -2.5]),
        helper.make_tensor("names", TensorProto.STRING, [2], [b"alpha", b"beta"]),
    ]
    graph = helper.make_graph([node], "features", [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["n", 3])],
                              [helper.make_tensor_value_info("c", TensorProto.FLOAT, ["n", 3])], initializer=initializers,
                              doc_string="graph doc")
    graph.metadata_props.add(key="graph_key", value="graph value")
    init_graph = helper.make_graph([helper.make_node("Identity", ["b"], ["b_init"])], "init", [],
                                   [helper.make_tensor_value_info("b_init", TensorProto.FLOAT, [3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("trtforge.test", 1)],
                              functions=[fn], producer_name="trtforge-fixture", producer_version="1", doc_string="model doc")
    model.training_info.append(helper.make_training_info(init_graph, [], init_graph, [("b", "b_init")]))
    helper.set_model_props(model, {"author": "trtforge", "license": "Apache-2.0"})
    path = out / "features.onnx"
    onnx.save(model, str(path))
    return path


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    bert = tiny_bert(out)
    result = {
        "tinyBert": str(bert),
        "tinyBertExternal": str(external_copy(bert, out)),
        "features": str(features(out)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
