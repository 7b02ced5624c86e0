"""Offline stand-ins that let the submission notebook run without the internet, used only when
:func:`evaluation.colab.plan_runtime` says so. ``CAMSAM_SMOKE=1`` (tests) makes them tiny:
dataset, few-step classifier, classical segmenter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from common.device import describe_device, resolve_device


@dataclass(frozen=True)
class NotebookSettings:
    """Knobs of a notebook run; :meth:`from_env` reads them from the environment."""

    smoke: bool = False
    backgrounds: str = "builtin"
    segmenter: str = "auto"
    sam_checkpoint: str | None = None

    @classmethod
    def from_env(cls) -> NotebookSettings:
        """``CAMSAM_SMOKE``, ``CAMSAM_BACKGROUNDS``, ``CAMSAM_SEGMENTER``, ``SAM_CHECKPOINT``."""
        smoke = os.environ.get("CAMSAM_SMOKE", "0") not in ("", "0", "false", "False")
        return cls(
            smoke=smoke,
            backgrounds=os.environ.get("CAMSAM_BACKGROUNDS", "builtin"),
            segmenter=os.environ.get("CAMSAM_SEGMENTER", "flood_fill" if smoke else "auto"),
            sam_checkpoint=os.environ.get("SAM_CHECKPOINT"),
        )


def prepare_dataset(dataset_path: Path, settings: NotebookSettings) -> str:
    """Write a generated look-alike dataset to ``dataset_path`` (unless one is there already);
    returns what was done."""
    if (dataset_path / "images").is_dir():
        return f"dataset already at {dataset_path}"
    from shapes.backgrounds import load_backgrounds
    from shapes.generate import GenerationConfig, generate_dataset

    sizes = (60, 20, 45) if settings.smoke else (3500, 1000, 500)
    bank = load_backgrounds(settings.backgrounds, cache_dir=dataset_path.parent)
    config = GenerationConfig(sizes=dict(zip(("train", "val", "test"), sizes, strict=True)))
    generate_dataset(dataset_path, bank, config)
    return f"generated a look-alike dataset at {dataset_path} (backgrounds: {bank.source})"


def offline_segmenter(settings: NotebookSettings, device: torch.device | str = "auto") -> Any:
    """The segmenter of an offline run (``CAMSAM_SEGMENTER``, default ``auto``: SAM when its
    checkpoint is on disk, else the best classical back end with a warning), on ``device``
    (a ``--device`` spec or a torch device; ``auto``: CUDA when available)."""
    from sam_pipelines import make_segmenter

    return make_segmenter(settings.segmenter, settings.sam_checkpoint, device=str(device))


def prepare_classifier_checkpoint(
    checkpoint_path: Path, dataset_path: Path, settings: NotebookSettings
) -> dict[str, Any]:
    """Make the template's classifier cell work offline; returns a description of what happened.

    Unless ``checkpoint_path`` exists, the classifier is trained from scratch (cached under
    ``checkpoints/``; CUDA when available) and its weights saved to ``checkpoint_path``, and a
    stand-in ImageNet file (random weights, all replaced by the checkpoint) is put in a private
    torch hub (``checkpoints/offline_torch_hub``).
    """
    from classifier import TrainConfig, load_or_train
    from classifier.pretrained import cached_weights_path

    if checkpoint_path.exists():
        return {"action": f"using the existing {checkpoint_path}"}
    config = TrainConfig.tiny() if settings.smoke else TrainConfig()
    dev, cache_dir = resolve_device("auto"), Path("checkpoints")
    model, info = load_or_train(dataset_path, config, cache_dir=cache_dir, device=str(dev))
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, checkpoint_path)
    hub = (cache_dir / "offline_torch_hub").resolve()
    torch.hub.set_dir(str(hub))
    stand_in = cached_weights_path()
    if not stand_in.exists():
        import torchvision

        stand_in.parent.mkdir(parents=True, exist_ok=True)
        torch.save(torchvision.models.resnet18(weights=None).state_dict(), stand_in)
    return {
        "action": f"trained from scratch on {describe_device(dev)} (ImageNet weights "
        "unreachable) and saved to "
        f"{checkpoint_path}; the template's ImageNet constructor gets a stand-in file of random "
        f"weights at {stand_in}, all of which the checkpoint load replaces",
        "training": info.to_dict(),
    }
