"""Each error code, its exit status, and that nothing is left in --out."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import pytest
from conftest import Run, link_model, write_samples


def _no_files(out: Path) -> bool:
    return not out.exists() or not any(out.iterdir())


def test_folder_without_config_is_not_a_model(exporter: Callable[[list[str], Path], Run], minilm_dir: Path,
                                              tmp_path: Path) -> None:
    model = link_model(minilm_dir, tmp_path / "m", skip=("config.json",))
    run = exporter(["--model", str(model)], tmp_path / "out")
    assert run.returncode == 3 and run.final["code"] == "NOT_A_MODEL"
    assert "config.json" in run.final["message"] and _no_files(run.out)


def test_folder_without_weights_is_not_a_model(exporter: Callable[[list[str], Path], Run], minilm_dir: Path,
                                               tmp_path: Path) -> None:
    model = link_model(minilm_dir, tmp_path / "m", skip=("model.safetensors",))
    run = exporter(["--model", str(model)], tmp_path / "out")
    assert run.final["code"] == "NOT_A_MODEL" and "weights" in run.final["message"]


def test_unreadable_config_is_not_a_model(exporter: Callable[[list[str], Path], Run], minilm_dir: Path,
                                          tmp_path: Path) -> None:
    model = link_model(minilm_dir, tmp_path / "m", skip=("config.json",))
    (model / "config.json").write_text("{not json", encoding="utf-8")
    run = exporter(["--model", str(model)], tmp_path / "out")
    assert run.final["code"] == "NOT_A_MODEL"


def test_auto_map_needs_hub(exporter: Callable[[list[str], Path], Run], minilm_dir: Path, tmp_path: Path) -> None:
    model = link_model(minilm_dir, tmp_path / "m", skip=("config.json",))
    config = json.loads((minilm_dir / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_custom.CustomModel"}
    (model / "config.json").write_text(json.dumps(config), encoding="utf-8")
    run = exporter(["--model", str(model)], tmp_path / "out")
    assert run.returncode == 3 and run.final["code"] == "NEEDS_HUB" and "remote code" in run.final["message"]


def test_missing_tokenizer_needs_hub(exporter: Callable[[list[str], Path], Run], minilm_dir: Path,
                                     tmp_path: Path) -> None:
    model = link_model(minilm_dir, tmp_path / "m", skip=("tokenizer.json", "vocab.txt"))
    run = exporter(["--model", str(model)], tmp_path / "out")
    assert run.final["code"] == "NEEDS_HUB" and "tokenizer" in run.final["message"]


def test_classification_of_a_headless_checkpoint_is_refused(exporter: Callable[[list[str], Path], Run],
                                                            minilm_dir: Path, tmp_path: Path) -> None:
    """MiniLM is a BertModel checkpoint: transformers would add a random classifier, a silently
    wrong export. Refused."""
    run = exporter(["--model", str(minilm_dir), "--task", "sequence-classification"], tmp_path / "out")
    assert run.returncode == 3 and run.final["code"] == "TASK_UNSUPPORTED"
    assert "classifier.weight" in run.final["message"] and "random" in run.final["message"]
    assert _no_files(run.out)


def test_unsupported_pooling_mode(exporter: Callable[[list[str], Path], Run], minilm_dir: Path,
                                  tmp_path: Path) -> None:
    model = link_model(minilm_dir, tmp_path / "m", skip=("1_Pooling",))
    (model / "1_Pooling").mkdir()
    (model / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 384, "pooling_mode_lasttoken": True}), encoding="utf-8")
    run = exporter(["--model", str(model)], tmp_path / "out")
    assert run.final["code"] == "TASK_UNSUPPORTED" and "pooling_mode_lasttoken" in run.final["message"]


@pytest.mark.parametrize("content", ["", "\n\n", '{"text": 3}\n', "not json\n", '{"text": "  "}\n'])
def test_bad_samples(exporter: Callable[[list[str], Path], Run], minilm_dir: Path, tmp_path: Path,
                     content: str) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text(content, encoding="utf-8")
    start = time.monotonic()
    run = exporter(["--model", str(minilm_dir), "--samples", str(samples)], tmp_path / "out")
    assert run.returncode == 2 and run.final["code"] == "BAD_INPUT"
    assert time.monotonic() - start < 20  # refused before torch is even imported
    assert _no_files(run.out)


@pytest.mark.parametrize("args", [["--opset", "13"], ["--opset", "99"], ["--max-samples", "0"],
                                  ["--task", "translation"], ["--external-data", "sometimes"], ["--bogus"],
                                  ["--samples", "/nonexistent/samples.jsonl"]])
def test_bad_options(exporter: Callable[[list[str], Path], Run], minilm_dir: Path, tmp_path: Path,
                     args: list[str]) -> None:
    run = exporter(["--model", str(minilm_dir), *args], tmp_path / "out")
    assert run.returncode == 2 and run.final["code"] == "BAD_INPUT" and run.final["fix"]
    assert [o["type"] for o in run.lines] == ["error"]


def test_missing_model_option(exporter: Callable[[list[str], Path], Run], tmp_path: Path) -> None:
    run = exporter([], tmp_path / "out")
    assert run.returncode == 2 and run.final["code"] == "BAD_INPUT" and "--model" in run.final["message"]


def test_samples_are_read_before_the_model(exporter: Callable[[list[str], Path], Run], tmp_path: Path) -> None:
    samples = write_samples(tmp_path / "s.jsonl", ["one article"])
    run = exporter(["--model", str(tmp_path / "nowhere"), "--samples", str(samples)], tmp_path / "out")
    assert run.final["code"] == "NOT_A_MODEL" and run.returncode == 3
