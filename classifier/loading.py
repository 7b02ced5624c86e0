"""Getting the classifier a run names: a ``--classifier-preset`` or a ``--classifier-checkpoint``.

Used by ``scripts/compare_strategies.py`` (which trains the preset through
:func:`classifier.load_or_train` when no checkpoint is given) and ``scripts/make_figures.py``
(which reloads the run's classifier for the feature maps).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from classifier.cache import CheckpointError, load_checkpoint
from classifier.config import TrainConfig, TrainingInfo
from common.errors import UserError

#: Names accepted by ``--classifier-preset``.
CLASSIFIER_PRESETS = ("default", "tiny")


def classifier_config(preset: str) -> TrainConfig:
    """The classifier's ``TrainConfig`` for ``--classifier-preset`` (``default`` or ``tiny``).

    Raises:
        common.UserError: an unknown preset.
    """
    if preset == "default":
        return TrainConfig()
    if preset == "tiny":
        return TrainConfig.tiny()
    raise UserError(f"unknown classifier preset {preset!r}; expected one of {CLASSIFIER_PRESETS}")


def load_classifier_checkpoint(
    path: Path, fingerprint: str | None, device: torch.device | str = "cpu"
) -> tuple[nn.Module, TrainingInfo]:
    """(model in eval mode, TrainingInfo) from a classifier checkpoint and its ``.json`` sidecar.

    Args:
        path: the ``.pt`` file (``--classifier-checkpoint``).
        fingerprint: the dataset it must have been trained on, or None for no such check (a
            folder with only a test split cannot be compared with the training data).
        device: torch device.

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
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(
            f"cannot read the checkpoint's settings file {sidecar}: {exc} (truncated or edited?)"
        ) from exc
    if not isinstance(meta, dict) or not {"config", "recipe"} <= set(meta):
        keys = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(
            f"{sidecar} is not a classifier settings file of this version (it needs 'config' "
            f"and 'recipe', found {keys}); retrain with scripts/train_classifier.py"
        )
    try:
        config = TrainConfig.from_dict(meta["config"])
    except (ValueError, TypeError) as exc:
        raise CheckpointError(
            f"{sidecar} holds settings of another version ({exc}); retrain with "
            "scripts/train_classifier.py"
        ) from exc
    return load_checkpoint(path, fingerprint, meta["recipe"], config, device=device)
