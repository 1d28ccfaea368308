"""Loading config, tokenizer and model from the local folder, offline, with errors mapped to codes.

Imports torch and transformers: import this module only after :func:`env.configure` ran.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
)

from .errors import ExportError
from .folder import ModelFolder
from .plan import ResolvedTask

INPUT_ORDER = ("input_ids", "attention_mask", "token_type_ids")
# Heads whose weights must come from the checkpoint: a missing one would be randomly initialised.
_HEAD_PREFIXES = ("classifier.", "score.", "pre_classifier.", "pooler.")
# Weights a feature-extraction export never uses (its output is last_hidden_state).
_UNUSED_FOR_FEATURES = ("pooler.",)


@dataclass
class Loaded:
    task: ResolvedTask
    config: PretrainedConfig
    tokenizer: Any  # a transformers tokenizer; transformers' own classes are not precisely typed
    model: PreTrainedModel
    input_names: tuple[str, ...]
    architecture: str


def load_config(folder: ModelFolder) -> PretrainedConfig:
    try:
        config: PretrainedConfig = AutoConfig.from_pretrained(str(folder.path), local_files_only=True,
                                                              trust_remote_code=False)
        return config
    except OSError as e:
        raise ExportError("NEEDS_HUB", f"the config cannot be loaded offline: {e}",
                          "put the complete model folder on disk; nothing is fetched from the hub") from e
    except (ValueError, KeyError) as e:
        raise ExportError("TASK_UNSUPPORTED",
                          f"transformers cannot load model_type {folder.config.get('model_type')!r}: {e}",
                          "use a model whose architecture this transformers version ships") from e


def load_tokenizer(folder: ModelFolder) -> Any:
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder.path), local_files_only=True, trust_remote_code=False)
    except OSError as e:
        raise ExportError("NEEDS_HUB", f"the tokenizer cannot be loaded offline: {e}",
                          "copy the model's tokenizer files into the folder") from e
    except (ValueError, KeyError, ImportError) as e:
        raise ExportError("TASK_UNSUPPORTED", f"the tokenizer cannot be loaded here: {type(e).__name__}: {e}",
                          "use a model with a tokenizer.json (fast tokenizer)") from e
    if tokenizer.pad_token_id is None:
        raise ExportError("TASK_UNSUPPORTED", "the tokenizer has no pad token, so batches cannot be padded",
                          "use an encoder model whose tokenizer defines a pad token")
    return tokenizer


def load_model(folder: ModelFolder, config: PretrainedConfig, task: ResolvedTask) -> PreTrainedModel:
    auto = AutoModelForSequenceClassification if task == "sequence-classification" else AutoModel
    try:
        model, info = auto.from_pretrained(
            str(folder.path),
            config=config,
            local_files_only=True,
            trust_remote_code=False,
            output_loading_info=True,
            dtype=torch.float32,
        )
    except OSError as e:
        raise ExportError("NEEDS_HUB", f"the weights cannot be loaded offline: {e}",
                          "put the complete model folder on disk; nothing is fetched from the hub") from e
    except ValueError as e:
        if "Unrecognized configuration class" in str(e) or "not supported" in str(e):
            raise ExportError("TASK_UNSUPPORTED",
                              f"transformers cannot load {config.model_type!r} for {task}: {e}",
                              "pick another --task, or a model with that head") from e
        raise ExportError("NOT_A_MODEL", f"the weights cannot be loaded: {e}", "restore the model's weights") from e
    except RuntimeError as e:
        raise ExportError("NOT_A_MODEL", f"the weights do not match the config: {e}", "restore the model's weights") from e
    except Exception as e:
        if type(e).__name__ == "SafetensorError":
            raise ExportError("NOT_A_MODEL", f"the safetensors weights are unreadable: {e}",
                              "restore the model's weights") from e
        raise
    _check_loading_info(info, task, model)
    model.eval()
    loaded: PreTrainedModel = model
    return loaded


def _check_loading_info(info: dict[str, Any], task: ResolvedTask, model: PreTrainedModel) -> None:
    missing = sorted(str(k) for k in info.get("missing_keys", ()))
    mismatched = sorted(str(k[0] if isinstance(k, tuple) else k) for k in info.get("mismatched_keys", ()))
    if mismatched:
        raise ExportError("NOT_A_MODEL", f"weights of the wrong shape for the config: {', '.join(mismatched[:8])}",
                          "restore the model's config.json and weights from the same revision")
    if task == "feature-extraction":
        missing = [k for k in missing if not k.startswith(_UNUSED_FOR_FEATURES)]
    if not missing:
        return
    shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    head = [k for k in missing if k.startswith(_HEAD_PREFIXES)]
    if task == "sequence-classification" and head:
        raise ExportError(
            "TASK_UNSUPPORTED",
            f"the checkpoint has no trained classification head ({shown} missing): {type(model).__name__} "
            "would start from random weights and the export would be silently wrong",
            "use --task feature-extraction, or a checkpoint fine-tuned for sequence classification",
        )
    raise ExportError("NOT_A_MODEL", f"the checkpoint lacks weights the model needs: {shown}",
                      "restore the model's weights; random initialisation is never exported")


def pick_input_names(model: PreTrainedModel, tokenizer: Any) -> tuple[str, ...]:
    """input_ids and attention_mask always; token_type_ids only when both the model's forward
    and the tokenizer's model_input_names have it (BERT yes; RoBERTa, DistilBERT no)."""
    params = set(inspect.signature(model.forward).parameters)
    tok_names = set(getattr(tokenizer, "model_input_names", ()) or ())
    for required in ("input_ids", "attention_mask"):
        if required not in params:
            raise ExportError("TASK_UNSUPPORTED", f"{type(model).__name__}.forward takes no {required}",
                              "export a text encoder that takes input_ids and attention_mask")
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in params and "token_type_ids" in tok_names:
        names.append("token_type_ids")
    return tuple(names)


def load_all(folder: ModelFolder, task: ResolvedTask) -> Loaded:
    config = load_config(folder)
    if task == "sequence-classification" and not getattr(config, "num_labels", 0):
        raise ExportError("TASK_UNSUPPORTED", "the config defines no labels", "use a sequence-classification checkpoint")
    tokenizer = load_tokenizer(folder)
    model = load_model(folder, config, task)
    archs = folder.architectures
    return Loaded(
        task=task,
        config=config,
        tokenizer=tokenizer,
        model=model,
        input_names=pick_input_names(model, tokenizer),
        architecture=archs[0] if archs else type(model).__name__,
    )
