"""The sentence-transformers pooling configuration (1_Pooling/config.json and a Normalize module)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ExportError
from .folder import ModelFolder

PoolingMode = Literal["cls", "max", "mean", "mean_sqrt_len"]

# sentence-transformers concatenates the enabled modes in this order.
_FLAG_ORDER: tuple[tuple[str, PoolingMode | None], ...] = (
    ("pooling_mode_cls_token", "cls"),
    ("pooling_mode_max_tokens", "max"),
    ("pooling_mode_mean_tokens", "mean"),
    ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len"),
    ("pooling_mode_weightedmean_tokens", None),
    ("pooling_mode_lasttoken", None),
)
_NAMED_MODES: dict[str, PoolingMode | None] = {
    "cls": "cls", "max": "max", "mean": "mean", "mean_sqrt_len_tokens": "mean_sqrt_len",
    "weightedmean": None, "lasttoken": None,
}
_FIX_MODES = "export with --task feature-extraction on a model whose pooling is cls, max, mean or mean_sqrt_len_tokens"


@dataclass(frozen=True)
class PoolingSpec:
    modes: tuple[PoolingMode, ...]
    normalize: bool
    config_path: str

    def as_report(self) -> dict[str, Any]:
        return {"modes": list(self.modes), "normalize": self.normalize, "config": self.config_path}


def pooling_spec(folder: ModelFolder) -> PoolingSpec | None:
    """The pooling that sentence-transformers would apply, or None when the folder is not an ST model."""
    modules = folder.st_modules
    if not modules:
        return None
    kinds = [m.kind for m in modules]
    unsupported = [m.type_name for m in modules if m.kind not in ("Transformer", "Pooling", "Normalize")]
    if unsupported:
        raise ExportError("TASK_UNSUPPORTED",
                          f"modules.json lists sentence-transformers modules this exporter cannot put in the graph: "
                          f"{', '.join(unsupported)} (supported: Transformer, Pooling, Normalize)",
                          "export a model whose modules.json has only Transformer, Pooling and Normalize")
    pooling = [m for m in modules if m.kind == "Pooling"]
    if not pooling:
        return None
    if len(pooling) > 1 or kinds.index("Pooling") > (kinds.index("Normalize") if "Normalize" in kinds else len(kinds)):
        raise ExportError("TASK_UNSUPPORTED", f"modules.json has an unsupported module order: {kinds}",
                          "expected Transformer, Pooling, then optionally Normalize")
    rel = pooling[0].path or "."
    config_path = folder.path / rel / "config.json"
    try:
        raw = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExportError("NOT_A_MODEL", f"cannot read the pooling config {config_path}: {e}",
                          "restore the Pooling module's config.json from the model's source") from e
    if not isinstance(raw, dict):
        raise ExportError("NOT_A_MODEL", f"{config_path} is not a JSON object", "restore it from the model's source")
    modes = _modes(raw, str(config_path))
    return PoolingSpec(modes=modes, normalize="Normalize" in kinds,
                       config_path=str(config_path.relative_to(folder.path)))


def _modes(raw: dict[str, Any], where: str) -> tuple[PoolingMode, ...]:
    named = raw.get("pooling_mode")
    if isinstance(named, str):
        if named not in _NAMED_MODES:
            raise ExportError("TASK_UNSUPPORTED", f"{where}: unknown pooling_mode {named!r}", _FIX_MODES)
        mode = _NAMED_MODES[named]
        if mode is None:
            raise ExportError("TASK_UNSUPPORTED", f"{where}: pooling mode {named!r} is not supported", _FIX_MODES)
        return (mode,)
    modes: list[PoolingMode] = []
    for flag, mode in _FLAG_ORDER:
        if raw.get(flag):
            if mode is None:
                raise ExportError("TASK_UNSUPPORTED", f"{where}: pooling flag {flag} is not supported", _FIX_MODES)
            modes.append(mode)
    if not modes:
        raise ExportError("TASK_UNSUPPORTED", f"{where}: no pooling mode is enabled", _FIX_MODES)
    return tuple(modes)
