"""In-process unit tests of the parts that need no export: pooling, folder identity, samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from trtforge_export.errors import ExportError
from trtforge_export.folder import hf_cache_identity
from trtforge_export.pooling import PoolingSpec, _modes
from trtforge_export.samples import read_samples
from trtforge_export.wrapper import pool


def _numpy_pool(h: np.ndarray, mask: np.ndarray, modes: tuple[str, ...], normalize: bool) -> np.ndarray:
    m = mask[..., None].astype(np.float64)
    h = h.astype(np.float64)
    parts = []
    for mode in modes:
        if mode == "cls":
            parts.append(h[:, 0])
        elif mode == "max":
            parts.append(np.where(m == 0, -1e9, h).max(axis=1))
        elif mode == "mean":
            parts.append((h * m).sum(1) / np.clip(m.sum(1), 1e-9, None))
        else:
            parts.append((h * m).sum(1) / np.sqrt(np.clip(m.sum(1), 1e-9, None)))
    out = np.concatenate(parts, axis=1)
    if normalize:
        out = out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
    return out


@pytest.mark.parametrize("modes", [("mean",), ("cls",), ("max",), ("mean_sqrt_len",), ("cls", "max", "mean")])
@pytest.mark.parametrize("normalize", [False, True])
def test_pool_matches_numpy(modes: tuple[str, ...], normalize: bool) -> None:
    g = torch.Generator().manual_seed(0)
    h = torch.randn(4, 7, 5, generator=g)
    mask = torch.tensor([[1] * 7, [1] * 3 + [0] * 4, [1] + [0] * 6, [1] * 5 + [0] * 2])
    spec = PoolingSpec(modes=modes, normalize=normalize, config_path="1_Pooling/config.json")  # type: ignore[arg-type]
    got = pool(h, mask, spec).numpy()
    assert got.shape == (4, 5 * len(modes))
    np.testing.assert_allclose(got, _numpy_pool(h.numpy(), mask.numpy(), modes, normalize), rtol=1e-5, atol=1e-6)


def test_pooling_flags_in_sentence_transformers_order() -> None:
    flags = {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": True, "pooling_mode_max_tokens": False}
    assert _modes(flags, "x") == ("cls", "mean")
    assert _modes({"pooling_mode": "max"}, "x") == ("max",)
    for bad in ({"pooling_mode_weightedmean_tokens": True}, {}, {"pooling_mode": "lasttoken"}):
        with pytest.raises(ExportError) as e:
            _modes(bad, "x")
        assert e.value.code == "TASK_UNSUPPORTED"


def test_hf_cache_identity(tmp_path: Path) -> None:
    rev = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"
    snap = tmp_path / "models--sentence-transformers--all-MiniLM-L6-v2" / "snapshots" / rev
    snap.mkdir(parents=True)
    assert hf_cache_identity(snap) == ("sentence-transformers/all-MiniLM-L6-v2", rev)
    link = tmp_path / "current"
    link.symlink_to(snap, target_is_directory=True)
    assert hf_cache_identity(link) == ("sentence-transformers/all-MiniLM-L6-v2", rev)
    assert hf_cache_identity(tmp_path) == (None, None)
    assert hf_cache_identity(tmp_path / "snapshots" / "main") == (None, None)


def test_read_samples(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"article {i}", "label": i}) for i in range(10)) + "\n\n",
                    encoding="utf-8")
    assert read_samples(path, 3) == ["article 0", "article 1", "article 2"]
    assert len(read_samples(path, 64)) == 10
    path.write_text('{"text": "ok"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(ExportError) as e:
        read_samples(path, 1)  # the whole file is validated, not only the rows used
    assert e.value.code == "BAD_INPUT" and ":2:" in e.value.message


def test_shapes_option_parses_and_refuses_bad_items(tmp_path: Path) -> None:
    from trtforge_export.options import ShapeCase, parse_options

    samples = tmp_path / "s.jsonl"
    samples.write_text('{"text": "a"}\n', encoding="utf-8")
    base = ["--model", str(tmp_path), "--out", str(tmp_path / "out"), "--samples", str(samples)]
    assert parse_options([*base, "--shapes", "min:1x1,max:16x256"]).shapes == (ShapeCase("min", 1, 1), ShapeCase("max", 16, 256))
    for bad in ("min:0x1", "max:16", "max:16x256,max:1x1", "x y:1x1"):
        with pytest.raises(ExportError) as e:
            parse_options([*base, "--shapes", bad])
        assert e.value.code == "BAD_INPUT"
    with pytest.raises(ExportError, match="--shapes needs --samples"):
        parse_options(["--model", str(tmp_path), "--out", str(tmp_path / "out"), "--shapes", "min:1x1"])


def test_full_shape_rows_are_real_tokens_only(minilm_dir: Path, ag_news: list[tuple[str, str]]) -> None:
    from transformers import AutoTokenizer

    from trtforge_export.reference import fill_rows, tokenize_full

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir), local_files_only=True)
    texts = [f"{t}. {d}" for t, d in ag_news[:20]]
    names = ("input_ids", "attention_mask", "token_type_ids")
    enc = tokenize_full(tokenizer, fill_rows(tokenizer, texts, 3, 200), names, 200)
    assert tuple(enc["input_ids"].shape) == (3, 200)
    assert bool((enc["attention_mask"] == 1).all())
    assert all(int(enc["input_ids"][r, 0]) == tokenizer.cls_token_id for r in range(3))
    assert not torch.equal(enc["input_ids"][0], enc["input_ids"][1])
    one = tokenize_full(tokenizer, fill_rows(tokenizer, texts, 1, 1), names, 1)
    assert one["input_ids"].tolist() == [[tokenizer.cls_token_id]]


@pytest.mark.parametrize("tool", ["cpu_serving", "gpu_serving"])
def test_serving_tools_share_one_main_that_refuses_missing_inputs(tool: str, tmp_path: Path) -> None:
    # Both optimizers end in tool_main.run_tool: a missing input is a BAD_INPUT line and exit 2.
    import subprocess
    import sys

    missing = tmp_path / "none.onnx"
    extra = ["--texts", str(tmp_path / "t.json"), "--shapes", "1x8"] if tool == "gpu_serving" else []
    proc = subprocess.run([sys.executable, "-m", f"trtforge_export.{tool}", "--onnx", str(missing), "--model", str(tmp_path),
                           "--out", str(tmp_path / "out.onnx"), *extra],
                          capture_output=True, text=True, env={"PYTHONPATH": str(Path(__file__).parents[1]), "PATH": "/usr/bin:/bin"},
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {
        "type": "error", "code": "BAD_INPUT", "message": f"the ONNX {missing} does not exist", "fix": "run the export stage first"}
