"""Training the supervised segmenters on class-agnostic foreground masks: Adam with warm-up and
cosine decay, BCE + soft Dice, random flips, selection on the val split's mean IoU.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from classifier.train import use_bf16
from metrics import iou_per_image
from shapes.dataset import SplitArrays
from shapes.transforms import normalize_uint8
from supervised.models import build_model, forward_logits, model_spec, predict_masks


@dataclass(frozen=True)
class TrainConfig:
    """Every setting that changes a trained model (saved with its checkpoint as JSON).

    Attributes:
        epochs: passes over the (possibly limited) train split.
        batch_size: images per optimiser step.
        lr: Adam's peak learning rate.
        weight_decay: Adam's L2 penalty.
        warmup_fraction: share of the steps warming the learning rate up linearly from 0; the
            rest decays it to 0 with a cosine.
        dice_weight: loss = BCE + dice_weight * soft Dice (per image, averaged).
        hflip, vflip: random horizontal / vertical flips.
        limit, val_limit: use only the first ``limit`` train images, score only the first
            ``val_limit`` val images each epoch (None: all).
        seed: initialisation, shuffling and augmentation seed.
        encoder_weights: requested encoder initialisation, ``"imagenet"`` or None (the
            checkpoint records what was used, see ``resolve_encoder_weights``).
        input_scale: the model enlarges its input this many times (1 = native 48 x 64).
        precision: ``"bf16"`` trains (and selects on val) under bfloat16 autocast, ``"fp32"``
            does not, ``"auto"`` uses bf16 where the hardware computes it natively.
        channels_last: NHWC memory layout for the model and the batches (faster on CPU).
    """

    epochs: int = 4
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    dice_weight: float = 1.0
    hflip: bool = True
    vflip: bool = True
    limit: int | None = None
    val_limit: int | None = None
    seed: int = 0
    encoder_weights: str | None = "imagenet"
    input_scale: int = 1
    precision: str = "auto"
    channels_last: bool = True

    def __post_init__(self) -> None:
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"unknown precision {self.precision!r}; expected auto, bf16, fp32")
        for name in ("epochs", "batch_size", "input_scale"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("limit", "val_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1 or None, got {value}")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}")

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON form."""
        return asdict(self)


#: Per-model defaults that differ from :class:`TrainConfig`'s (see the README).
MODEL_DEFAULTS: dict[str, dict[str, object]] = {
    "fpn_resnet50": {"input_scale": 2, "epochs": 2, "batch_size": 16, "val_limit": 250},
    "fpn_vgg19": {"input_scale": 1, "epochs": 1, "batch_size": 16, "lr": 1e-4, "val_limit": 500},
    "pspnet_resnet50": {"input_scale": 2, "epochs": 3, "batch_size": 16, "val_limit": 500},
}


def default_config(name: str, **overrides: object) -> TrainConfig:
    """The default schedule of model ``name`` (``MODEL_DEFAULTS``) with ``overrides`` applied
    (None values, i.e. unset command-line options, are ignored)."""
    model_spec(name)  # an unknown name raises, listing the known ones
    settings = {**MODEL_DEFAULTS[name], **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig(**settings)  # type: ignore[arg-type]


@dataclass
class TrainResult:
    """A trained model (best val epoch restored) and how it got there: ``train_seconds`` is
    wall time (training plus per-epoch val scoring), ``cpu_seconds`` this process's CPU time."""

    model: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    val_miou: float = float("nan")
    train_seconds: float = 0.0
    cpu_seconds: float = 0.0


def segmentation_loss(logits: Tensor, target: Tensor, dice_weight: float = 1.0) -> Tensor:
    """Scalar BCE-with-logits plus ``dice_weight`` times the per-image soft Dice loss of
    float (B, H, W) pre-sigmoid ``logits`` against a float (B, H, W) ``target`` in {0, 1}."""
    if logits.shape != target.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and target {tuple(target.shape)} differ")
    bce = F.binary_cross_entropy_with_logits(logits, target)
    if dice_weight == 0:
        return bce
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(1, 2))
    total = prob.sum(dim=(1, 2)) + target.sum(dim=(1, 2))
    dice = 1.0 - (2.0 * inter + 1.0) / (total + 1.0)
    return bce + dice_weight * dice.mean()


def random_flips(
    x: Tensor, y: Tensor, generator: torch.Generator, hflip: bool, vflip: bool
) -> tuple[Tensor, Tensor]:
    """Flip each image (B, C, H, W) and its mask (B, H, W) with probability 1/2 per axis."""
    b = x.shape[0]
    for enabled, x_dim in ((hflip, -1), (vflip, -2)):
        if not enabled:
            continue
        flip = torch.rand(b, generator=generator) < 0.5
        if flip.any():
            x = torch.where(flip.view(b, 1, 1, 1).to(x.device), x.flip(x_dim), x)
            y = torch.where(flip.view(b, 1, 1).to(y.device), y.flip(x_dim), y)
    return x, y


def lr_factor(step: int, total_steps: int, warmup_fraction: float) -> float:
    """Multiplier of the peak learning rate at ``step`` (0-based): linear warm-up, then cosine."""
    warmup = max(1, round(warmup_fraction * total_steps)) if warmup_fraction > 0 else 0
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def train_model(
    name: str,
    train: SplitArrays,
    val: SplitArrays,
    config: TrainConfig,
    encoder_weights: str | None = None,
    device: torch.device | str = "cpu",
    progress: bool = True,
    encoder_depth: int | None = None,
) -> TrainResult:
    """Train model ``name`` on foreground masks and keep the epoch with the best val mean IoU.

    Args:
        train: uint8 images (N, H, W, 3) and bool masks (N, H, W) (the first ``config.limit``).
        val: the validation split, scored after every epoch.
        encoder_weights: the *resolved* encoder weights (``"imagenet"`` or None).
        progress: show a tqdm bar with the running loss and the last val IoU.
        encoder_depth: smaller encoders for tests (None: smp's default).

    Returns:
        :class:`TrainResult` with the best epoch's weights loaded, in eval mode.
    """
    dev = torch.device(device)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    model = build_model(name, encoder_weights, encoder_depth, config.input_scale)
    model.to(dev, memory_format=memory_format)
    bf16 = use_bf16(config.precision, dev)

    x_all = normalize_uint8(train.images[: config.limit])
    y_all = torch.from_numpy(train.masks[: config.limit].astype(np.float32))
    n = len(x_all)
    if n < 2:
        raise ValueError(f"need at least 2 train images (BatchNorm), got {n}")
    val_images, val_masks = val.images[: config.val_limit], val.masks[: config.val_limit]

    batch = min(config.batch_size, n)
    steps_per_epoch = n // batch
    total_steps = steps_per_epoch * config.epochs
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, total_steps, config.warmup_fraction)
    )

    result = TrainResult(model=model)
    best_state: dict[str, Tensor] | None = None
    start, cpu_start = time.perf_counter(), time.process_time()
    bar = tqdm(total=total_steps, desc=name, disable=not progress, unit="step")
    running = float("nan")
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(n, generator=gen)[: steps_per_epoch * batch]
        loss_sum = 0.0
        for idx in order.view(steps_per_epoch, batch):
            x, y = random_flips(x_all[idx], y_all[idx], gen, config.hflip, config.vflip)
            x = x.to(dev, non_blocking=True).contiguous(memory_format=memory_format)
            y = y.to(dev, non_blocking=True)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                logits = forward_logits(model, x)
            loss = segmentation_loss(logits.float(), y, config.dice_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            value = float(loss.detach())
            loss_sum += value
            running = value if math.isnan(running) else 0.9 * running + 0.1 * value
            bar.update(1)
            bar.set_postfix(loss=f"{running:.4f}", val_iou=f"{result.val_miou:.4f}")
        val_pred = predict_masks(model, val_images, bf16=bf16)
        val_miou = float(iou_per_image(val_pred, val_masks).mean())
        elapsed = time.perf_counter() - start
        train_loss = loss_sum / steps_per_epoch
        epoch_row = {"epoch": epoch, "train_loss": train_loss, "val_miou": val_miou}
        result.history.append({**epoch_row, "elapsed_s": elapsed})
        if best_state is None or val_miou > result.val_miou:
            result.val_miou, result.best_epoch = val_miou, epoch
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=f"{running:.4f}", val_iou=f"{val_miou:.4f}")
    bar.close()
    result.train_seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu_start
    assert best_state is not None
    model.load_state_dict(best_state)
    model.to(memory_format=torch.contiguous_format)
    model.eval()
    return result
