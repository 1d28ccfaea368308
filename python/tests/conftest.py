"""Shared fixtures: the repository paths, the MiniLM test model, AG News texts, and a runner for
``python -m trtforge_export`` that checks the stdout protocol on every call."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON_DIR = REPO / "python"
AG_NEWS = Path(os.environ.get("TRTFORGE_AG_NEWS", REPO / "data" / "ag_news" / "test.csv"))
TYPES = {"progress", "log", "result", "error"}
STAGES = {"load", "export", "check", "reference", "report"}
LEVELS = {"debug", "info", "warning", "error"}
CODES = {"NOT_A_MODEL", "TASK_UNSUPPORTED", "NEEDS_HUB", "BAD_INPUT", "INTERNAL"}

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@dataclass
class Run:
    returncode: int
    lines: list[dict[str, Any]]
    stderr: str
    out: Path
    final: dict[str, Any] = field(default_factory=dict)

    @property
    def report(self) -> dict[str, Any]:
        assert self.final["type"] == "result", f"expected a result, got {self.final}\n{self.stderr[-3000:]}"
        report: dict[str, Any] = self.final["report"]
        return report


def check_protocol(stdout: str, returncode: int) -> list[dict[str, Any]]:
    """Every stdout line is one JSON object of a known type; exactly one result/error, last."""
    assert stdout.endswith("\n"), "stdout must end with a newline"
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert lines, "no protocol lines"
    for obj in lines:
        assert isinstance(obj, dict) and obj.get("type") in TYPES, obj
        if obj["type"] == "progress":
            assert obj["stage"] in STAGES and isinstance(obj["current"], int) and isinstance(obj["total"], int)
            assert 0 <= obj["current"] <= obj["total"] and isinstance(obj["message"], str)
        elif obj["type"] == "log":
            assert obj["level"] in LEVELS and isinstance(obj["message"], str)
        elif obj["type"] == "error":
            assert obj["code"] in CODES and obj["message"] and obj["fix"], obj
    finals = [o for o in lines if o["type"] in ("result", "error")]
    assert len(finals) == 1 and finals[0] is lines[-1], "exactly one result/error line, and it is the last"
    final = lines[-1]
    if final["type"] == "result":
        assert returncode == 0
    else:
        assert returncode == (2 if final["code"] == "BAD_INPUT" else 3), (final, returncode)
    return lines


def run_export(args: list[str], out: Path, timeout: float = 300) -> Run:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("HF_HUB_OFFLINE", None)  # the exporter must set it itself
    env.pop("TRANSFORMERS_OFFLINE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "trtforge_export", "--out", str(out), *args],
        capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL,
    )
    lines = check_protocol(proc.stdout, proc.returncode)
    return Run(returncode=proc.returncode, lines=lines, stderr=proc.stderr, out=out, final=lines[-1])


@pytest.fixture(scope="session")
def exporter() -> Callable[[list[str], Path], Run]:
    return run_export


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch-test-model.sh")], capture_output=True, text=True,
                          check=True)
    path = Path(proc.stdout.strip().splitlines()[-1])
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    return path


@pytest.fixture(scope="session")
def ag_news() -> list[tuple[str, str]]:
    """(title, description) of the real AG News test articles (columns label,title,description)."""
    with AG_NEWS.open("r", encoding="utf-8", newline="") as f:
        rows = [(r[1], r[2]) for r in csv.reader(f)]
    assert len(rows) == 7600
    return rows


def write_samples(path: Path, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    return path


def link_model(src: Path, dst: Path, skip: tuple[str, ...] = ()) -> Path:
    """A copy of a model folder made of symlinks, without the files named in ``skip``."""
    dst.mkdir(parents=True)
    for item in src.iterdir():
        if item.name not in skip:
            (dst / item.name).symlink_to(item.resolve(), target_is_directory=item.is_dir())
    return dst


def trtrtx(args: list[str], timeout: float = 600) -> dict[str, Any]:
    """Runs python -m trtforge_trtrtx (NVIDIA's TensorRT-RTX parser or builder, no GPU needed) and
    returns its result report; a rejection fails the test with the parser's own words."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "trtforge_trtrtx", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    final = lines[-1] if lines else {"type": "none", "stderr": proc.stderr[-3000:]}
    assert final["type"] == "result" and proc.returncode == 0, f"TensorRT-RTX refused {args}: {final}"
    report: dict[str, Any] = final["report"]
    return report


def nvidia_parses(onnx_path: Path) -> dict[str, Any]:
    """Every ONNX the tests export must pass NVIDIA's ONNX parser (TensorRT-RTX's, the one on PyPI)."""
    report = trtrtx(["parse", "--onnx", str(onnx_path)])
    assert report["layers"] > 0
    return report


def profile_for(onnx_inputs: list[str], batch: tuple[int, int, int], seq: tuple[int, int, int]) -> str:
    return json.dumps([{"input": name, "min": [batch[0], seq[0]], "opt": [batch[1], seq[1]], "max": [batch[2], seq[2]]}
                       for name in onnx_inputs])
