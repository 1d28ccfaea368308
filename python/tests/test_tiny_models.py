"""Tiny models made in the test: a BERT sequence classifier (3 labels) and a RoBERTa encoder
(no token_type_ids), exported and checked with onnxruntime."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from conftest import Run, nvidia_parses, profile_for, trtrtx, write_samples
from safetensors.numpy import load_file
from tokenizers import ByteLevelBPETokenizer
from transformers import (
    AutoModel,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    RobertaConfig,
    RobertaModel,
    RobertaTokenizer,
)

TOL = 1e-4
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


@pytest.fixture(scope="module")
def tiny_bert_cls(tmp_path_factory: pytest.TempPathFactory, minilm_dir: Path) -> Path:
    path = tmp_path_factory.mktemp("tiny-bert-cls")
    torch.manual_seed(1)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, num_labels=3,
                        id2label={0: "negative", 1: "neutral", 2: "positive"},
                        label2id={"negative": 0, "neutral": 1, "positive": 2})
    BertForSequenceClassification(config).eval().save_pretrained(path)
    for name in TOKENIZER_FILES:
        shutil.copy(minilm_dir / name, path / name)
    assert json.loads((path / "config.json").read_text())["architectures"] == ["BertForSequenceClassification"]
    return path


@pytest.fixture(scope="module")
def tiny_roberta(tmp_path_factory: pytest.TempPathFactory, ag_news: list[tuple[str, str]]) -> Path:
    path = tmp_path_factory.mktemp("tiny-roberta")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([t for t, _ in ag_news[:2000]], vocab_size=600, min_frequency=2,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe.save_model(str(path))
    vocab = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
    merges = [line for line in (path / "merges.txt").read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    tok = RobertaTokenizer(vocab=vocab, merges=[tuple(m.split()) for m in merges])
    assert tok.pad_token_id == 1 and tok.model_input_names == ["input_ids", "attention_mask"]
    tok.save_pretrained(str(path))
    torch.manual_seed(2)
    config = RobertaConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=64, max_position_embeddings=130, type_vocab_size=1, pad_token_id=1,
                           bos_token_id=0, eos_token_id=2)
    RobertaModel(config).eval().save_pretrained(path)
    return path


def _samples(tmp: Path, ag_news: list[tuple[str, str]], start: int, n: int) -> Path:
    return write_samples(tmp / "samples.jsonl", [f"{t}. {d}" for t, d in ag_news[start:start + n]])


def _ort_matches_reference(out: Path, names: list[str]) -> dict[str, float]:
    ref = load_file(str(out / "reference.safetensors"))
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == names
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {k: ref[k] for k in names})))
    mask = ref["attention_mask"].astype(bool)
    diffs = {}
    for name, value in got.items():
        d = np.abs(value - ref[name])
        diffs[name] = float((d[mask] if value.ndim == 3 else d).max())
    assert all(v < TOL for v in diffs.values()), diffs
    return diffs


def test_bert_sequence_classification(exporter: Callable[[list[str], Path], Run], tiny_bert_cls: Path,
                                      ag_news: list[tuple[str, str]], tmp_path: Path) -> None:
    run = exporter(["--model", str(tiny_bert_cls), "--samples", str(_samples(tmp_path, ag_news, 200, 20)),
                    "--batch-size", "6", "--seq-len", "64"], tmp_path / "out")
    r = run.report
    assert r["task"] == "sequence-classification" and r["architecture"] == "BertForSequenceClassification"
    assert r["num_labels"] == 3 and r["id2label"] == {"0": "negative", "1": "neutral", "2": "positive"}
    assert r["pooling"] is None and r["hidden_size"] == 32
    assert [i["name"] for i in r["inputs"]] == ["input_ids", "attention_mask", "token_type_ids"]
    assert r["outputs"] == [{"name": "logits", "dtype": "float32", "dynamic_axes": {"0": "batch"},
                             "shape": ["batch", 3]}]
    assert r["reference"]["tensors"]["logits"] == {"dtype": "float32", "shape": [20, 3]}
    _ort_matches_reference(run.out, ["input_ids", "attention_mask", "token_type_ids"])
    # and against transformers directly, on other texts and another batch size
    tok = AutoTokenizer.from_pretrained(str(tiny_bert_cls), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert_cls), local_files_only=True).eval()
    enc = tok([t for t, _ in ag_news[300:305]], padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model(**enc).logits.numpy()
    session = ort.InferenceSession(str(run.out / "model.onnx"), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {k: v.numpy() for k, v in enc.items()})
    assert logits.shape == (5, 3) and np.abs(logits - expected).max() < TOL
    # NVIDIA's builder reads this export and makes a real TensorRT-RTX engine of it, with no GPU.
    parsed = nvidia_parses(run.out / "model.onnx")
    assert [i["name"] for i in parsed["inputs"]] == ["input_ids", "attention_mask", "token_type_ids"]
    plan = tmp_path / "classifier.plan"
    built = trtrtx(["build", "--onnx", str(run.out / "model.onnx"), "--out", str(plan), "--precision", "fp32",
                    "--compute-capability", "8.6",
                    "--profile", profile_for(["input_ids", "attention_mask", "token_type_ids"], (1, 4, 8), (1, 32, 64))])
    head = plan.read_bytes()[:40]
    assert head[:4] == b"vtrt" and list(head[24:28]) == [1, 7, 1, 116] and head[32] == 0x04
    assert built["plan_bytes"] == plan.stat().st_size and built["compute_capabilities"] == ["8.6"]


def test_bert_opset_14_and_external_data(exporter: Callable[[list[str], Path], Run], tiny_bert_cls: Path,
                                          ag_news: list[tuple[str, str]], tmp_path: Path) -> None:
    """Opset 14 (what JustNewsAgent's engines used: LayerNorm decomposed, Shape lowered) with the
    weights in model.onnx.data."""
    run = exporter(["--model", str(tiny_bert_cls), "--samples", str(_samples(tmp_path, ag_news, 400, 8)),
                    "--opset", "14", "--external-data", "always"], tmp_path / "out")
    r = run.report
    assert r["opset"] == 14 and r["external_data"] is True and r["onnx_data_file"] == "model.onnx.data"
    assert (run.out / "model.onnx.data").stat().st_size > 4 * 30522 * 32
    model = onnx.load(str(run.out / "model.onnx"), load_external_data=False)
    assert model.opset_import[0].version == 14
    assert "LayerNormalization" not in {n.op_type for n in model.graph.node}
    onnx.checker.check_model(str(run.out / "model.onnx"), full_check=True)
    nvidia_parses(run.out / "model.onnx")  # external data beside the model, opset 14
    _ort_matches_reference(run.out, ["input_ids", "attention_mask", "token_type_ids"])


def test_roberta_has_no_token_type_ids(exporter: Callable[[list[str], Path], Run], tiny_roberta: Path,
                                       ag_news: list[tuple[str, str]], tmp_path: Path) -> None:
    run = exporter(["--model", str(tiny_roberta), "--samples", str(_samples(tmp_path, ag_news, 500, 12)),
                    "--seq-len", "128"], tmp_path / "out")
    r = run.report
    assert r["task"] == "feature-extraction" and r["architecture"] == "RobertaModel"
    assert [i["name"] for i in r["inputs"]] == ["input_ids", "attention_mask"]
    assert [o["name"] for o in r["outputs"]] == ["last_hidden_state"] and r["pooling"] is None
    assert r["reference"]["padding"]["pad_token_id"] == 1
    assert [i["name"] for i in nvidia_parses(run.out / "model.onnx")["inputs"]] == ["input_ids", "attention_mask"]
    ref = load_file(str(run.out / "reference.safetensors"))
    assert set(ref) == {"input_ids", "attention_mask", "last_hidden_state"}
    assert (ref["input_ids"][ref["attention_mask"] == 0] == 1).all()
    _ort_matches_reference(run.out, ["input_ids", "attention_mask"])
    tok = AutoTokenizer.from_pretrained(str(tiny_roberta), local_files_only=True)
    model = AutoModel.from_pretrained(str(tiny_roberta), local_files_only=True).eval()
    enc = tok([t for t, _ in ag_news[600:603]], padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model(**enc).last_hidden_state.numpy()
    session = ort.InferenceSession(str(run.out / "model.onnx"), providers=["CPUExecutionProvider"])
    (hidden,) = session.run(None, {k: enc[k].numpy() for k in ("input_ids", "attention_mask")})
    mask = enc["attention_mask"].numpy().astype(bool)
    assert np.abs(hidden - expected)[mask].max() < TOL


def test_roberta_seq_len_limit(exporter: Callable[[list[str], Path], Run], tiny_roberta: Path,
                               tmp_path: Path) -> None:
    run = exporter(["--model", str(tiny_roberta), "--seq-len", "129"], tmp_path / "out")
    assert run.final["code"] == "BAD_INPUT" and "128" in run.final["message"]
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("model_name", ["tiny_bert_cls", "tiny_roberta"])
def test_attention_fusion_matches_the_export(exporter: Callable[[list[str], Path], Run], ag_news: list[tuple[str, str]],
                                             tmp_path: Path, model_name: str, request: pytest.FixtureRequest) -> None:
    """Every attention block of the dynamo export becomes one com.microsoft.Attention with the same
    outputs; the CPU-serving CLI then fuses LayerNorm/GELU and (int8) quantizes, over the protocol."""
    import subprocess
    import sys

    from conftest import PYTHON_DIR, check_protocol
    from trtforge_export.attention_fusion import fuse_attention

    model_dir: Path = request.getfixturevalue(model_name)
    run = exporter(["--model", str(model_dir), "--samples", str(_samples(tmp_path, ag_news, 400, 8)), "--seq-len", "64"],
                   tmp_path / "out")
    names = [i["name"] for i in run.report["inputs"]]
    ref = load_file(str(run.out / "reference.safetensors"))
    feeds = {k: ref[k] for k in names}
    original = ort.InferenceSession(str(run.out / "model.onnx"), providers=["CPUExecutionProvider"])
    fused = fuse_attention(onnx.load(str(run.out / "model.onnx")), num_heads=2)
    assert (fused.attention_blocks, fused.fused) == (2, 2)
    assert [n.op_type for n in fused.model.graph.node].count("Attention") == 2
    assert "Softmax" not in [n.op_type for n in fused.model.graph.node]
    session = ort.InferenceSession(fused.model.SerializeToString(), providers=["CPUExecutionProvider"])
    mask = ref["attention_mask"].astype(bool)
    for name, want, got in zip([o.name for o in original.get_outputs()], original.run(None, feeds), session.run(None, feeds)):
        d = np.abs(want - got)
        assert float((d[mask] if want.ndim == 3 else d).max()) < TOL, name

    proc = subprocess.run([sys.executable, "-m", "trtforge_export.cpu_serving", "--onnx", str(run.out / "model.onnx"),
                           "--model", str(model_dir), "--out", str(tmp_path / "model.cpu.onnx")],
                          capture_output=True, text=True, env={"PYTHONPATH": str(PYTHON_DIR), "PATH": "/usr/bin:/bin"},
                          timeout=300, stdin=subprocess.DEVNULL)
    final = check_protocol(proc.stdout, proc.returncode)[-1]
    assert final["type"] == "result", (final, proc.stderr[-3000:])
    report = final["report"]
    assert report["attention_fused"] == 2 and report["quantization"]["integer_nodes"]["QAttention"] == 2
    assert report["fused_operators"]["SkipLayerNormalization"] >= 3
    int8 = ort.InferenceSession(str(tmp_path / "model.cpu.onnx"), providers=["CPUExecutionProvider"])
    assert [o.name for o in int8.get_outputs()] == [o.name for o in original.get_outputs()]


def test_attention_fusion_leaves_an_unknown_graph_alone() -> None:
    """A Softmax that is not self-attention (no Q/K/V projections) is counted and left as it was."""
    from onnx import TensorProto, helper

    from trtforge_export.attention_fusion import fuse_attention

    graph = helper.make_graph([helper.make_node("Softmax", ["x"], ["y"], axis=-1)], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4]),
                               helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [2, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])])
    model = helper.make_model(graph)
    before = model.SerializeToString()
    result = fuse_attention(model, num_heads=2)
    assert (result.attention_blocks, result.fused) == (1, 0)
    assert result.model.SerializeToString() == before
