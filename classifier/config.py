"""Training settings (a dataclass of defaults) and the record of a finished training.

A :class:`TrainConfig` is saved inside every checkpoint and as JSON next to it; together with
the dataset's fingerprint it keys the checkpoint cache (see :mod:`classifier.cache`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any, Literal

from shapes.draw import ShapeStyle
from shapes.stress import ContrastStyle

#: Names of the two recipes; ``TrainConfig.recipe = "auto"`` picks one (see ``resolve_recipe``).
SCRATCH = "scratch-curriculum"
FINETUNE = "imagenet-finetune"

#: The curriculum's first shapes: opaque and large, anywhere inside the image.
EASY_STYLE = ShapeStyle(
    size_range=(16.0, 24.0), alpha_range=(1.0, 1.0), opaque_prob=1.0, border_overhang=0.0
)


#: Fields whose default is not what settings saved before the field existed meant.
VALUES_BEFORE_ADDED: dict[str, Any] = {"hot_mask_prob": 0.0}


@dataclass(frozen=True)
class TrainConfig:
    """How to train the ResNet-18 classifier; the defaults are the benchmark recipe.

    recipe: ``"auto"`` fine-tunes ImageNet weights when they are cached or downloadable, else
    trains from scratch; ``"scratch-curriculum"`` or ``"imagenet-finetune"`` force one.

    Template fine-tune (``imagenet-finetune``, on the fixed train split):
        finetune_epochs, finetune_lr, weight_decay, batch_size: AdamW as in the template.

    From-scratch curriculum (``scratch-curriculum``):
        steps: optimiser steps, ``batch_size`` images each.
        lr, weight_decay, warmup_steps, decay_start: AdamW, linear warm-up to ``lr`` over
            ``warmup_steps``, constant until ``decay_start`` (fraction of ``steps``), then
            cosine decay to zero.
        label_smoothing: cross-entropy label smoothing.
        easy_steps, anneal_steps: ``easy_steps`` batches of ``easy_style`` shapes, then over
            ``anneal_steps`` the share of the real distribution grows from 0 to 1 (per sample,
            ``curriculum="mix"``) or each shape's style moves to ``real_style`` (``"interp"``).
        real_style, real_contrast: shapes and contrast of the fresh real-distribution samples;
            None: the dataset's own (``style`` and ``contrast`` of its ``generation.json``),
            else the defaults (the look-alike of the course data).
        fixed_fraction: share of each batch's real part taken from the fixed train split
            (randomly flipped left-right) instead of freshly drawn.
        backgrounds: background source of fresh samples (``"builtin"``, ``"cifar10"``, a path;
            None: from the dataset's ``generation.json``, else builtin); TRAIN pool only.
        zero_init_residual: start every residual block's last BatchNorm scale at zero.
        hot_mask_prob, hot_mask_threshold: during training, each image's ``layer2[-1]`` output
            is, with probability ``hot_mask_prob``, zeroed where its channel mean is below
            ``hot_mask_threshold`` x its maximum (:mod:`classifier.hot_mask`; 0 turns it off).
        eval_every: steps between validation evaluations (the learning curve's points).
        keep_best: return the weights with the best validation score (else the last ones).
        cam_select_weight: validation score = accuracy + this x the Grad-CAM argmax hit rate
            (:mod:`classifier.localisation`); 0 keeps the most accurate weights.
        cam_eval_images: val images (evenly spread) that hit rate is measured on.
        channels_last: NHWC memory layout (faster convolutions on CPU).
        precision: ``"bf16"`` trains (and validates) under bfloat16 autocast, ``"fp32"`` does
            not, ``"auto"`` picks bf16 where the hardware computes it natively (AVX512-BF16 or
            AMX CPUs, CUDA). Weights and reported accuracies stay float32.
        seed: seeds every random draw (weights, samples, order).
    """

    recipe: Literal["auto", "scratch-curriculum", "imagenet-finetune"] = "auto"
    batch_size: int = 128
    weight_decay: float = 0.05
    finetune_epochs: int = 5
    finetune_lr: float = 2e-3
    steps: int = 1200
    lr: float = 2e-3
    warmup_steps: int = 30
    decay_start: float = 0.4
    label_smoothing: float = 0.0
    easy_steps: int = 60
    anneal_steps: int = 240
    curriculum: Literal["mix", "interp"] = "mix"
    easy_style: ShapeStyle = EASY_STYLE
    real_style: ShapeStyle | None = None
    real_contrast: ContrastStyle | None = None
    fixed_fraction: float = 0.25
    backgrounds: str | None = None
    zero_init_residual: bool = False
    hot_mask_prob: float = 0.5
    hot_mask_threshold: float = 0.5
    eval_every: int = 50
    keep_best: bool = True
    cam_select_weight: float = 0.0
    cam_eval_images: int = 250
    channels_last: bool = True
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        choices = {
            "recipe": ("auto", SCRATCH, FINETUNE),
            "precision": ("auto", "bf16", "fp32"),
            "curriculum": ("mix", "interp"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; expected {allowed}")
        positive = ("batch_size", "steps", "eval_every", "finetune_epochs", "cam_eval_images")
        bounds = dict.fromkeys(positive, (1, None))
        bounds |= {"fixed_fraction": (0, 1), "decay_start": (0, 1), "cam_select_weight": (0, None)}
        bounds |= {"hot_mask_prob": (0, 1), "hot_mask_threshold": (0, 1)}
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if value < low or (high is not None and value > high):
                limit = f">= {low}" if high is None else f"in [{low}, {high}]"
                raise ValueError(f"TrainConfig.{name} must be {limit}, got {value}")

    @classmethod
    def tiny(cls, **overrides: Any) -> TrainConfig:
        """A few-second run for tests and the notebook's smoke mode (not a useful model)."""
        base = dict(recipe=SCRATCH, batch_size=8, steps=6, warmup_steps=2, easy_steps=2)
        base |= dict(anneal_steps=2, eval_every=3, finetune_epochs=1)
        return cls(**{**base, **overrides})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError`` naming them. A field
        of :data:`VALUES_BEFORE_ADDED` that ``data`` lacks (saved before the field existed)
        takes the value that matches how it was trained, not today's default."""
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {unknown}")
        kwargs = {**VALUES_BEFORE_ADDED, **data}
        for key in ("easy_style", "real_style"):
            if isinstance(kwargs.get(key), dict):
                kwargs[key] = style_from_dict(kwargs[key])
        if isinstance(kwargs.get("real_contrast"), dict):
            kwargs["real_contrast"] = ContrastStyle(**kwargs["real_contrast"])
        return cls(**kwargs)


def style_from_dict(data: dict[str, Any]) -> ShapeStyle:
    """The :class:`ShapeStyle` of a JSON dict (lists become the tuples of its ranges)."""
    return ShapeStyle(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass
class TrainingInfo:
    """What a training run (or the cached checkpoint) reports.

    Attributes:
        recipe: ``"scratch-curriculum"`` or ``"imagenet-finetune"``.
        imagenet_weights: whether training started from ImageNet weights.
        weights_note: why (e.g. the download error that made it train from scratch).
        test_accuracy, val_accuracy: of the returned weights, in [0, 1] (test once, at the end).
        best_step: the step whose weights were returned.
        train_seconds: wall-clock seconds of the training itself.
        checkpoint: path of the cached checkpoint ('' when not saved).
        from_cache: True when this call loaded the checkpoint instead of training.
        curve: learning curve, one (step, loss, train accuracy, val accuracy, CAM argmax hit
            rate on ``cam_eval_images`` val images) per evaluation; loss and train accuracy
            average the batches since the last point (older checkpoints: 4 columns).
        val_cam_hit, test_cam_hit: share in [0, 1] of the val / test images whose Grad-CAM
            argmax at ``layer2[-1]`` lies in the shape (None in older checkpoints).
        config: the settings used, ``TrainConfig.to_dict()``.
        fingerprint: ``shapes.dataset_fingerprint`` of the dataset trained on.
        precision: ``"bf16"`` or ``"fp32"``, the autocast precision training ran in.
        device: the device it trained on, e.g. ``"cuda:0 (NVIDIA H200)"`` ('' in older files).
    """

    recipe: str
    imagenet_weights: bool
    weights_note: str
    test_accuracy: float
    val_accuracy: float
    best_step: int
    train_seconds: float
    curve: list[tuple[float, ...]]
    config: dict[str, Any]
    fingerprint: str
    precision: str = "fp32"
    val_cam_hit: float | None = None
    test_cam_hit: float | None = None
    device: str = ""
    checkpoint: str = ""
    from_cache: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingInfo:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**data, "curve": [tuple(p) for p in data.get("curve", [])]})
