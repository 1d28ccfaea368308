"""all-MiniLM-L6-v2 (BertModel + mean pooling + Normalize) exported for feature-extraction."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from conftest import Run, nvidia_parses, write_samples
from safetensors.numpy import load_file
from transformers import AutoModel, AutoTokenizer

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
TOL = 1e-4


@pytest.fixture(scope="module")
def minilm(exporter: Callable[[list[str], Path], Run], minilm_dir: Path, ag_news: list[tuple[str, str]],
           tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("minilm")
    texts = [f"{title}. {description}" for title, description in ag_news[:40]]
    samples = write_samples(tmp / "samples.jsonl", texts)
    run = exporter(["--model", str(minilm_dir), "--samples", str(samples), "--max-samples", "32",
                    "--batch-size", "8", "--seq-len", "128", "--model-id", "sentence-transformers/all-MiniLM-L6-v2",
                    "--revision", "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"], tmp / "out")
    assert run.returncode == 0, run.stderr[-4000:]
    return run


@pytest.fixture(scope="module")
def session(minilm: Run) -> ort.InferenceSession:
    return ort.InferenceSession(str(minilm.out / "model.onnx"), providers=["CPUExecutionProvider"])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_report_and_files(minilm: Run, minilm_dir: Path) -> None:
    r = minilm.report
    assert sorted(p.name for p in minilm.out.iterdir()) == ["model.onnx", "reference.safetensors", "report.json"]
    assert r["task"] == "feature-extraction" and r["architecture"] == "BertModel"
    assert r["opset"] == 17 and r["external_data"] is False
    assert r["model_id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert r["hf_revision"] == "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"
    assert r["hidden_size"] == 384 and r["num_labels"] is None
    assert r["pooling"] == {"modes": ["mean"], "normalize": True, "config": "1_Pooling/config.json"}
    assert r["onnx_sha256"] == sha256(minilm.out / "model.onnx")
    assert r["reference"]["sha256"] == sha256(minilm.out / "reference.safetensors")
    assert r["reference"]["samples"] == 32
    assert r["versions"]["torch"].startswith("2.13.0") and r["versions"]["transformers"] == "5.23.0"
    assert set(r["versions"]) == {"python", "torch", "transformers", "onnx", "onnxruntime", "onnxscript"}
    import json
    assert json.loads((minilm.out / "report.json").read_text()) == r
    stages = [o["stage"] for o in minilm.lines if o["type"] == "progress"]
    assert stages.index("load") < stages.index("export") < stages.index("check") < stages.index("reference")
    assert sum(1 for o in minilm.lines if o["type"] == "progress" and o["stage"] == "reference" and o["current"] > 0) == 4


def test_nvidia_parser_reads_the_export(minilm: Run) -> None:
    parsed = nvidia_parses(minilm.out / "model.onnx")
    assert [o["name"] for o in parsed["outputs"]] == ["last_hidden_state", "sentence_embedding"]
    # int64 token inputs stay int64: TensorRT-RTX casts them and says so (docs/native.md has the decision).
    assert all(i["dtype"] == "int64" for i in parsed["inputs"])


def test_inputs_outputs_named_and_dynamic(minilm: Run) -> None:
    r = minilm.report
    assert [i["name"] for i in r["inputs"]] == INPUTS
    for i in r["inputs"]:
        assert i["dtype"] == "int64" and i["shape"] == ["batch", "sequence"]
        assert i["dynamic_axes"] == {"0": "batch", "1": "sequence"}
    outs = {o["name"]: o for o in r["outputs"]}
    assert list(outs) == ["last_hidden_state", "sentence_embedding"]
    assert outs["last_hidden_state"]["shape"] == ["batch", "sequence", 384]
    assert outs["sentence_embedding"]["shape"] == ["batch", 384]
    assert outs["sentence_embedding"]["dynamic_axes"] == {"0": "batch"}
    model = onnx.load(str(minilm.out / "model.onnx"), load_external_data=False)
    assert model.opset_import[0].version == 17
    assert [i.name for i in model.graph.input] == INPUTS  # no unnamed or static leftovers (input.3)
    for node in model.graph.node:
        assert not node.metadata_props and not node.doc_string  # no file paths baked in


def test_onnxruntime_matches_reference(minilm: Run, session: ort.InferenceSession) -> None:
    ref = load_file(str(minilm.out / "reference.safetensors"))
    n, length = ref["input_ids"].shape
    assert n == 32 and length == minilm.report["reference"]["seq_len"] <= 128
    assert ref["last_hidden_state"].shape == (n, length, 384) and ref["sentence_embedding"].shape == (n, 384)
    assert ref["input_ids"].dtype == np.int64 and ref["last_hidden_state"].dtype == np.float32
    mask = ref["attention_mask"].astype(bool)
    assert not mask.all(), "the samples should need padding"
    assert (ref["input_ids"][~mask] == 0).all() and (ref["last_hidden_state"][~mask] == 0).all()
    hidden, emb = session.run(None, {k: ref[k] for k in INPUTS})
    assert np.abs(hidden - ref["last_hidden_state"])[mask].max() < TOL
    assert np.abs(emb - ref["sentence_embedding"]).max() < TOL


def _mean_pool_normalize(hidden: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    m = mask[..., None].astype(np.float64)
    mean = (hidden.astype(np.float64) * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    return mean / np.clip(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12, None)


def test_matches_pytorch_on_ag_news_titles(session: ort.InferenceSession, minilm_dir: Path,
                                           ag_news: list[tuple[str, str]]) -> None:
    """Independent of the exporter's own reference: transformers' BertModel on AG News titles, at a
    batch size and sequence lengths the export never saw."""
    titles = [title for title, _ in ag_news[1000:1011]]
    tok = AutoTokenizer.from_pretrained(str(minilm_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(minilm_dir), local_files_only=True).eval()
    enc = tok(titles, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.no_grad():
        expected = model(**enc).last_hidden_state.numpy()
    feeds = {k: enc[k].numpy().astype(np.int64) for k in INPUTS}
    hidden, emb = session.run(None, feeds)
    mask = feeds["attention_mask"].astype(bool)
    assert hidden.shape == expected.shape == (11, feeds["input_ids"].shape[1], 384)
    diff = float(np.abs(hidden - expected)[mask].max())
    assert diff < TOL, diff
    # sentence_embedding is sentence-transformers' mean pooling + Normalize, computed in numpy here
    assert np.abs(emb - _mean_pool_normalize(expected, feeds["attention_mask"])).max() < TOL
    assert np.abs(emb - _mean_pool_normalize(hidden, feeds["attention_mask"])).max() < 1e-5
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_export_is_deterministic(minilm: Run, exporter: Callable[[list[str], Path], Run], minilm_dir: Path,
                                 tmp_path: Path) -> None:
    """The same model, versions and options give a byte-identical model.onnx (no samples this time:
    the graph does not depend on them), also from another folder path."""
    other = tmp_path / "elsewhere" / "all-MiniLM-L6-v2"
    other.parent.mkdir()
    other.symlink_to(minilm_dir, target_is_directory=True)
    again = exporter(["--model", str(other)], tmp_path / "out")
    assert again.returncode == 0, again.stderr[-4000:]
    assert sha256(again.out / "model.onnx") == sha256(minilm.out / "model.onnx") == again.report["onnx_sha256"]
    assert again.report["reference"] is None
    assert sorted(p.name for p in again.out.iterdir()) == ["model.onnx", "report.json"]
