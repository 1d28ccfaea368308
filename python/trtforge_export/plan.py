"""What to export, decided from the folder alone (no torch): the folder checks, the task and the
pooling. Done before torch is imported, so a wrong folder is refused in a fraction of a second."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .folder import ModelFolder, inspect_folder
from .options import Options, Task
from .pooling import PoolingSpec, pooling_spec

ResolvedTask = Literal["feature-extraction", "sequence-classification"]


@dataclass(frozen=True)
class Plan:
    model_dir: Path
    folder: ModelFolder
    task: ResolvedTask
    pooling: PoolingSpec | None


def resolve_task(requested: Task, folder: ModelFolder) -> ResolvedTask:
    if requested != "auto":
        return requested
    if any(a.endswith("ForSequenceClassification") for a in folder.architectures):
        return "sequence-classification"
    return "feature-extraction"


def make_plan(options: Options) -> Plan:
    model_dir = Path(os.path.abspath(options.model))
    folder = inspect_folder(model_dir)
    task = resolve_task(options.task, folder)
    pooling = pooling_spec(folder) if task == "feature-extraction" else None
    return Plan(model_dir=model_dir, folder=folder, task=task, pooling=pooling)
