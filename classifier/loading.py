"""Getting the classifier a run names: a ``--classifier-preset`` or a ``--classifier-checkpoint``
(``scripts/compare_strategies.py``, ``scripts/make_figures.py``)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from classifier.cache import CheckpointError, load_checkpoint
from classifier.config import TrainConfig, TrainingInfo
from common.errors import UserError
from common.jsonfile import read_json_object
from common.lookup import lookup

#: Names accepted by ``--classifier-preset``.
CLASSIFIER_PRESETS = ("default", "tiny")


def classifier_config(preset: str) -> TrainConfig:
    """The classifier's ``TrainConfig`` for ``--classifier-preset`` (``default`` or ``tiny``).

    Raises:
        common.UserError: an unknown preset.
    """
    presets = {"default": TrainConfig(), "tiny": TrainConfig.tiny()}
    return lookup(preset, presets, "classifier preset", error=UserError)


def load_classifier_checkpoint(
    path: Path, fingerprint: str | None, device: torch.device | str = "cpu"
) -> tuple[nn.Module, TrainingInfo]:
    """(model in eval mode, TrainingInfo) from a classifier checkpoint and its ``.json`` sidecar.

    ``fingerprint`` is the dataset it must have been trained on (None: no such check).

    Raises:
        classifier.CheckpointError: missing, unreadable or of an older format (the checkpoint
            or its sidecar, named), or trained on another dataset than ``fingerprint``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"--classifier-checkpoint {path} does not exist")
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        raise CheckpointError(f"{path} has no settings file {sidecar}")
    meta = read_json_object(
        sidecar,
        ("config", "recipe"),
        "a classifier settings file of this version",
        "retrain with scripts/train_classifier.py",
        error=CheckpointError,
    )
    try:
        config = TrainConfig.from_dict(meta["config"])
    except (ValueError, TypeError) as exc:
        raise CheckpointError(
            f"{sidecar} holds settings of another version ({exc}); retrain with "
            "scripts/train_classifier.py"
        ) from exc
    return load_checkpoint(path, fingerprint, meta["recipe"], config, device=device)
