"""Checks on the model folder that need no torch: config, weights, tokenizer files, remote code,
sentence-transformers modules, and the model id / revision an HF cache path tells."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ExportError

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_TOKENIZER_SETS = (
    ("tokenizer.json",),
    ("vocab.txt",),
    ("vocab.json", "merges.txt"),
    ("spiece.model",),
    ("sentencepiece.bpe.model",),
    ("tokenizer.model",),
)
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class StModule:
    """One entry of a sentence-transformers modules.json."""

    kind: str  # last part of the type name: Transformer, Pooling, Normalize, Dense, ...
    type_name: str
    path: str


@dataclass(frozen=True)
class ModelFolder:
    path: Path
    config: dict[str, Any]
    weight_file: str
    st_modules: tuple[StModule, ...] | None  # None when there is no modules.json

    @property
    def architectures(self) -> list[str]:
        arch = self.config.get("architectures")
        return [a for a in arch if isinstance(a, str)] if isinstance(arch, list) else []


def _read_json(path: Path, what: str) -> Any:
    try:
        with path.open("r", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExportError("NOT_A_MODEL", f"cannot read {what} {path}: {e}",
                          "point --model at an intact Hugging Face model folder") from e


def inspect_folder(path: Path) -> ModelFolder:
    if not path.is_dir():
        raise ExportError("NOT_A_MODEL", f"{path} is not a folder",
                          "point --model at a local Hugging Face model folder (config.json, weights, tokenizer)")
    config_path = path / "config.json"
    if not config_path.is_file():
        raise ExportError("NOT_A_MODEL", f"{path} has no config.json",
                          "point --model at a Hugging Face model folder (a snapshot with config.json and weights)")
    config = _read_json(config_path, "config")
    if not isinstance(config, dict):
        raise ExportError("NOT_A_MODEL", f"{config_path} is not a JSON object", "restore config.json from the model's source")
    if "auto_map" in config:
        raise ExportError("NEEDS_HUB", f"{config_path} has auto_map: the model needs remote code (trust_remote_code)",
                          "use a model whose architecture transformers ships; remote code is never run")
    if not isinstance(config.get("model_type"), str) or not config["model_type"]:
        raise ExportError("NOT_A_MODEL", f"{config_path} has no model_type", "restore config.json from the model's source")
    weight_file = next((w for w in WEIGHT_FILES if (path / w).is_file()), None)
    if weight_file is None:
        raise ExportError("NOT_A_MODEL", f"{path} has no PyTorch weights (looked for {', '.join(WEIGHT_FILES)})",
                          "download the model's weights into the folder (safetensors preferred)")
    tok_config = path / "tokenizer_config.json"
    if tok_config.is_file():
        tc = _read_json(tok_config, "tokenizer config")
        if isinstance(tc, dict) and "auto_map" in tc:
            raise ExportError("NEEDS_HUB", f"{tok_config} has auto_map: the tokenizer needs remote code",
                              "use a model whose tokenizer transformers ships; remote code is never run")
    if not any(all((path / f).is_file() for f in files) for files in _TOKENIZER_SETS):
        wanted = " or ".join("+".join(files) for files in _TOKENIZER_SETS)
        raise ExportError("NEEDS_HUB", f"{path} has no tokenizer files ({wanted}); they would have to come from the hub",
                          "copy the model's tokenizer files into the folder")
    return ModelFolder(path=path, config=config, weight_file=weight_file, st_modules=_st_modules(path))


def _st_modules(path: Path) -> tuple[StModule, ...] | None:
    modules_path = path / "modules.json"
    if not modules_path.is_file():
        return None
    raw = _read_json(modules_path, "sentence-transformers modules")
    if not isinstance(raw, list):
        raise ExportError("NOT_A_MODEL", f"{modules_path} is not a JSON list", "restore modules.json from the model's source")
    modules: list[StModule] = []
    for entry in sorted((e for e in raw if isinstance(e, dict)), key=lambda e: int(e.get("idx", 0))):
        type_name = str(entry.get("type", ""))
        modules.append(StModule(kind=type_name.rsplit(".", 1)[-1], type_name=type_name, path=str(entry.get("path", ""))))
    return tuple(modules)


def hf_cache_identity(path: Path) -> tuple[str | None, str | None]:
    """(model id, revision) when ``path`` is an HF cache snapshot ``models--org--name/snapshots/<rev>``."""
    for candidate in (Path(os.path.abspath(path)), path.resolve()):
        parent = candidate.parent
        if parent.name == "snapshots" and _HEX40.match(candidate.name):
            repo = parent.parent.name
            model_id = repo[len("models--"):].replace("--", "/") if repo.startswith("models--") else None
            return model_id, candidate.name
    return None, None
