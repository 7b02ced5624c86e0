"""The checkpoint cache: ``<cache_dir>/resnet18_<fingerprint>_<settings hash>.pt`` holds the
state dict, settings, fingerprint and :class:`TrainingInfo` (also in a ``.json``). One that is
unreadable or made for other inputs is reported, deleted and retrained.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import time
import zipfile
from pathlib import Path

import torch
from torch import nn

from classifier.config import SCRATCH, VALUES_BEFORE_ADDED, TrainConfig, TrainingInfo
from classifier.model import build_classifier
from classifier.train import resolve_data_settings, resolve_recipe, train_classifier
from common.atomic import atomic_write, atomic_write_text
from common.errors import UserError
from shapes.classes import SPLITS
from shapes.dataset import SyntheticData
from shapes.fingerprint import dataset_fingerprint

log = logging.getLogger(__name__)

FORMAT = 1


class CheckpointError(UserError):
    """A cached checkpoint is unreadable or was made for other settings or another dataset."""


def checkpoint_path(
    cache_dir: Path | str, fingerprint: str, recipe: str, config: TrainConfig
) -> Path:
    """Where the checkpoint for these inputs lives (its name ends in 12 hex digits identifying
    the dataset, the recipe and the settings)."""
    key = dict(format=FORMAT, fingerprint=fingerprint, recipe=recipe, config=config.to_dict())
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return Path(cache_dir) / f"resnet18_{fingerprint}_{digest}.pt"


def save_checkpoint(path: Path, model: nn.Module, info: TrainingInfo) -> None:
    """Write the checkpoint and its ``.json`` sidecar atomically (no half-written files)."""
    info.checkpoint = str(path)
    payload = {
        "format": FORMAT,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": info.config,
        "fingerprint": info.fingerprint,
        "recipe": info.recipe,
        "info": info.to_dict(),
    }
    atomic_write(path, lambda tmp: torch.save(payload, tmp))
    atomic_write_text(path.with_suffix(".json"), json.dumps(info.to_dict(), indent=2) + "\n")


def load_checkpoint(
    path: Path,
    fingerprint: str | None,
    recipe: str,
    config: TrainConfig,
    device: torch.device | str = "cpu",
) -> tuple[nn.Module, TrainingInfo]:
    """Load a checkpoint made for exactly these inputs (``fingerprint=None``: any dataset).

    Returns:
        (model in eval mode on ``device``, its TrainingInfo with ``from_cache=True``).

    Raises:
        CheckpointError: unreadable file, or stored settings / fingerprint / recipe that differ.
    """
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} is not a format-{FORMAT} classifier checkpoint")
    wanted = {"fingerprint": fingerprint, "recipe": recipe, "config": config.to_dict()}
    if fingerprint is None:
        del wanted["fingerprint"]
    for key, value in wanted.items():  # compared as JSON: tuples and lists count as equal
        stored = payload.get(key)
        if key == "config" and isinstance(stored, dict) and set(stored) < set(value):
            # fields added since it was saved: their value then, else today's
            stored = {**value, **VALUES_BEFORE_ADDED, **stored}
        if json.dumps(stored, sort_keys=True) != json.dumps(value, sort_keys=True):
            raise CheckpointError(
                f"checkpoint {path} was made for another {key}: stored {stored!r}, wanted {value!r}"
            )
    model = build_classifier()
    try:
        model.load_state_dict(payload["state_dict"])
        info = TrainingInfo.from_dict(payload["info"])
    except (RuntimeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {path} has broken contents: {exc}") from exc
    info.checkpoint, info.from_cache = str(path), True
    return model.to(device).eval(), info


def load_or_train(
    data_root: Path | str,
    config: TrainConfig | None = None,
    cache_dir: Path | str = "checkpoints",
    device: torch.device | str = "cpu",
    progress: bool = True,
    retrain: bool = False,
) -> tuple[nn.Module, TrainingInfo]:
    """The classifier for the dataset at ``data_root``: from the cache, or trained and cached.

    ``data_root`` is in the course layout (train, val and test splits), ``config`` defaults to
    ``TrainConfig()``; ``retrain`` ignores (and overwrites) a valid cached checkpoint.

    Returns:
        (ResNet-18 in eval mode on ``device``, taking ImageNet-normalised float32 images
        (B, 3, H, W) and returning logits (B, 5); its :class:`TrainingInfo`).

    Raises:
        shapes.DatasetError: a split is missing or one of its files is unreadable (checked
            before anything else, naming the file).
    """
    config = TrainConfig() if config is None else config
    data_root = Path(data_root)
    device = torch.device(device)
    for split in SPLITS:  # cheap header checks, before any download or training
        SyntheticData(data_root, split).check_files()  # type: ignore[arg-type]
    fingerprint = dataset_fingerprint(data_root)
    recipe = resolve_recipe(config)
    if recipe[0] == SCRATCH:  # the dataset's backgrounds and styles are part of the settings
        config = resolve_data_settings(data_root, config)
    path = checkpoint_path(cache_dir, fingerprint, recipe[0], config)
    if path.exists() and not retrain:
        start = time.perf_counter()
        try:
            model, info = load_checkpoint(path, fingerprint, recipe[0], config, device)
        except CheckpointError as exc:
            log.warning("%s -- deleted, retraining", exc)
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
        else:
            log.info("loaded cached classifier %s in %.1f s", path, time.perf_counter() - start)
            return model, info
    elif not retrain:
        log.info("no cached classifier at %s: training", path)
    model, info = train_classifier(data_root, config, device, progress, recipe, fingerprint)
    save_checkpoint(path, model, info)
    return model, info
