"""Train-or-load one reference model on a dataset folder and score it on the test split."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import segmentation_models_pytorch as smp
import torch
from torch import nn

from metrics import iou_per_image, iou_summary
from shapes import CLASSES, SyntheticData, dataset_fingerprint
from shapes.dataset import SplitArrays
from supervised.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from supervised.models import count_parameters, model_spec, predict_masks
from supervised.train import TrainConfig, train_model


def load_splits(root: Path | str) -> dict[str, SplitArrays]:
    """The train, val and test splits of a dataset folder, in memory."""
    return {s: SyntheticData(root, s).arrays() for s in ("train", "val", "test")}  # type: ignore[arg-type]


def train_or_load(
    name: str,
    data_root: Path | str,
    config: TrainConfig,
    encoder_weights: str | None,
    cache_dir: Path | str = "checkpoints",
    device: torch.device | str = "cpu",
    force: bool = False,
    progress: bool = True,
    splits: dict[str, SplitArrays] | None = None,
    command: str = "",
    encoder_depth: int | None = None,
) -> tuple[nn.Module, dict[str, object], bool]:
    """The checkpointed model of these settings, training (and testing) it when missing.

    Args:
        data_root: dataset folder (course layout); its fingerprint keys the checkpoint.
        encoder_weights: resolved encoder weights (``resolve_encoder_weights``).
        force: retrain even when the checkpoint exists.
        splits: preloaded ``load_splits(data_root)`` (read from disk when None).
        command: the command line, recorded in the checkpoint's info.
        encoder_depth: smaller encoders for tests (part of the key).

    Returns:
        (model in eval mode, info dict as saved, whether it was trained now).
    """
    fingerprint = dataset_fingerprint(data_root)
    path = checkpoint_path(cache_dir, name, fingerprint, config, encoder_weights, encoder_depth)
    if path.is_file() and not force:
        model, info = load_checkpoint(path, device=device)
        return model, {**info, "checkpoint": str(path)}, False
    splits = splits if splits is not None else load_splits(data_root)
    load_before = os.getloadavg()[0]
    train, test = splits["train"], splits["test"]
    result = train_model(
        name, train, splits["val"], config, encoder_weights, device, progress, encoder_depth
    )
    load_after = os.getloadavg()[0]
    spec = model_spec(name)
    test_ious = iou_per_image(predict_masks(result.model, test.images), test.masks)
    info: dict[str, object] = {
        "model": name,
        "arch": spec.arch,
        "encoder": spec.encoder,
        "encoder_weights": encoder_weights,
        "data_root": str(data_root),
        "data_fingerprint": fingerprint,
        "config": config.to_dict(),
        "settings_key": path.stem.rsplit("-", 1)[1],
        "encoder_depth": encoder_depth,
        "params": count_parameters(result.model),
        "n_train_images": min(config.limit or len(train), len(train)),
        "train_seconds": result.train_seconds,
        "cpu_seconds": result.cpu_seconds,
        "load_avg_1min": [load_before, load_after],
        "best_epoch": result.best_epoch,
        "val_miou": result.val_miou,
        "history": result.history,
        "test": {"n_images": len(test), **iou_summary(test_ious, test.labels, CLASSES)},
        "device": str(device),
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "smp": smp.__version__,
        "command": command,
    }
    save_checkpoint(path, result.model, info)
    return result.model, {**info, "checkpoint": str(path)}, True
