"""Training the ResNet-18 classifier (ImageNet-normalised float32 (B, 3, H, W) inputs): the
template's ImageNet fine-tune and the from-scratch curriculum."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from classifier.config import FINETUNE, SCRATCH, TrainConfig, TrainingInfo, style_from_dict
from classifier.hot_mask import hot_mask
from classifier.localisation import cam_argmax_hit_rate, spread_subset
from classifier.model import build_classifier, default_target_layer
from classifier.pretrained import find_imagenet_weights
from classifier.recipe import batch_stream, learning_rate
from common.device import describe_device, native_bf16
from common.errors import UserError
from common.jsonfile import read_json_object
from shapes.backgrounds import BackgroundBank, load_backgrounds
from shapes.classes import SPLITS
from shapes.dataset import SplitArrays, SyntheticData
from shapes.fingerprint import dataset_fingerprint
from shapes.stress import ContrastStyle
from shapes.transforms import normalize_uint8

log = logging.getLogger(__name__)


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether ``precision`` ("auto", "bf16", "fp32") means bfloat16 autocast on ``device``."""
    if precision != "auto":
        return precision == "bf16"
    return native_bf16(device)


def _autocast(device: torch.device, bf16: bool) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)


def _to_input(images: np.ndarray, device: torch.device, channels_last: bool) -> torch.Tensor:
    x = normalize_uint8(images).to(device)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


@torch.no_grad()
def predict_classes(
    model: nn.Module,
    images: np.ndarray,
    device: torch.device | str = "cpu",
    channels_last: bool = False,
    bf16: bool = False,
    batch_size: int = 250,
) -> np.ndarray:
    """Top-1 class indices int64 (N,) of ``model`` on uint8 RGB images (N, H, W, 3) (the class
    Grad-CAM explains by default); ``bf16`` runs the forward passes under bfloat16 autocast.
    Leaves the model in eval mode."""
    device = torch.device(device)
    model.eval()
    pred = [np.empty(0, dtype=np.int64)]
    for i in range(0, len(images), batch_size):
        with _autocast(device, bf16):
            logits = model(_to_input(images[i : i + batch_size], device, channels_last))
        pred.append(logits.argmax(1).cpu().numpy().astype(np.int64))
    return np.concatenate(pred)


def accuracy(
    model: nn.Module,
    split: SplitArrays,
    device: torch.device | str = "cpu",
    channels_last: bool = False,
    bf16: bool = False,
    batch_size: int = 250,
) -> float:
    """Top-1 accuracy in [0, 1] of ``model`` on a split held in memory (uint8 RGB images
    (N, H, W, 3), int64 labels (N,)); see :func:`predict_classes`."""
    pred = predict_classes(model, split.images, device, channels_last, bf16, batch_size)
    return float((pred == split.labels).mean())


def _background_spec(data_root: Path, meta: dict[str, Any]) -> str:
    """``meta``'s ``backgrounds`` as a ``load_backgrounds`` spec: a path tried from the working
    directory, ``data_root`` and its parent; else ``"builtin"`` with a warning."""
    if "backgrounds" not in meta:
        log.warning("%s names no backgrounds: fresh samples use the builtin ones", data_root)
        return "builtin"
    source = str(meta["backgrounds"])
    kind, _, value = source.partition(":")
    if kind in ("builtin", "cifar10") and not value:
        return kind
    if kind in ("npz", "folder"):
        for candidate in (Path(value), data_root / value, data_root.parent / value):
            if candidate.exists():
                return str(candidate)
    log.warning("backgrounds %r of %s not found: using the builtin ones", source, data_root)
    return "builtin"


def resolve_data_settings(data_root: Path, config: TrainConfig) -> TrainConfig:
    """``config`` with what it leaves to the dataset (None) filled from
    ``<data_root>/generation.json``: ``backgrounds`` (see :func:`_background_spec`),
    ``real_style`` and ``real_contrast`` (its ``style`` and ``contrast``; the defaults when it
    has none). Fields already set are kept; generation.json is read only when one is None."""
    wanted = ("backgrounds", "real_style", "real_contrast")
    if all(getattr(config, name) is not None for name in wanted):
        return config
    path, meta = data_root / "generation.json", {}
    if path.is_file():
        hint = "regenerate it with scripts/prepare_data.py, or delete it to train on the defaults"
        meta = read_json_object(path, ("generator",), "a generated dataset's settings", hint)
    else:
        log.warning("no %s: fresh samples use builtin backgrounds, default styles", path)
    try:
        found = {
            "backgrounds": _background_spec(data_root, meta),
            "real_style": style_from_dict(meta.get("style", {})),
            "real_contrast": ContrastStyle(**meta.get("contrast", {})),
        }
    except (TypeError, ValueError) as exc:
        raise UserError(f"{path} has an unusable style: {exc}") from exc
    return replace(config, **{k: v for k, v in found.items() if getattr(config, k) is None})


def _init_model(config: TrainConfig, imagenet: bool, device: torch.device) -> nn.Module:
    torch.manual_seed(config.seed)
    model = build_classifier(imagenet_weights=imagenet)
    if config.zero_init_residual and not imagenet:
        for module in model.modules():
            if hasattr(module, "bn2") and hasattr(module, "conv2"):  # torchvision BasicBlock
                nn.init.zeros_(module.bn2.weight)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    return model.to(device, memory_format=memory_format)


@dataclass(frozen=True)
class _Run:
    """One recipe's training run: the model, its optimiser and batches, and the loop's settings."""

    model: nn.Module
    opt: torch.optim.Optimizer
    batches: Iterable[tuple[np.ndarray, np.ndarray, float | None]]  # images, labels, difficulty
    desc: str
    total: int
    eval_at: Callable[[int], bool]  # 1-based step -> evaluate on val after it?
    lr_at: Callable[[int], float] | None  # 0-based step -> learning rate (None: constant)
    label_smoothing: float


@dataclass(frozen=True)
class _Kept:
    """The validation point whose weights training returns, and its selection score."""

    score: float
    val_acc: float
    step: int
    state: dict


def _run_loop(
    run: _Run, val: SplitArrays, device: torch.device, config: TrainConfig, progress: bool
) -> tuple[list[tuple[int, float, float, float, float]], _Kept]:
    """Train on ``run.batches`` of (uint8 images (B, H, W, 3), int64 labels (B,), difficulty or
    None), evaluating on ``val`` when ``run.eval_at(step)`` (accuracy, and the CAM argmax hit
    rate on ``config.cam_eval_images`` of its images). Loads the kept weights (best score
    accuracy + ``cam_select_weight`` x hit rate, or the last) and leaves the model in eval mode.

    Returns:
        (learning curve, the kept validation point).
    """
    model, opt = run.model, run.opt
    bf16 = use_bf16(config.precision, device)
    cam_val = spread_subset(val, config.cam_eval_images)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=run.label_smoothing)
    curve: list[tuple[int, float, float, float, float]] = []  # step, loss, train/val acc, cam
    window: list[tuple[float, int, int]] = []  # (loss, correct, images) since the last point
    kept: _Kept | None = None
    ema_loss = ema_acc = val_acc = val_cam = float("nan")
    bar = tqdm(total=run.total, desc=run.desc, disable=not progress, unit="step")
    for step, (images, labels, level) in enumerate(run.batches):
        if run.lr_at is not None:
            for group in opt.param_groups:
                group["lr"] = run.lr_at(step)
        model.train()
        x = _to_input(images, device, config.channels_last)
        y = torch.from_numpy(labels).to(device)
        with _autocast(device, bf16):
            logits = model(x)
            loss = loss_fn(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        correct = int((logits.detach().argmax(1) == y).sum())
        window.append((loss.item(), correct, len(y)))
        first = step == 0
        ema_loss = loss.item() if first else 0.9 * ema_loss + 0.1 * loss.item()
        ema_acc = correct / len(y) if first else 0.9 * ema_acc + 0.1 * correct / len(y)
        if run.eval_at(step + 1) or step + 1 == run.total:
            val_acc = accuracy(model, val, device, config.channels_last, bf16)
            val_cam = cam_argmax_hit_rate(model, cam_val, device, bf16)
            losses, corrects, seen = zip(*window, strict=True)
            mean_loss, train_acc = sum(losses) / len(losses), sum(corrects) / sum(seen)
            curve.append(
                (step + 1, *(round(v, 5) for v in (mean_loss, train_acc, val_acc, val_cam)))
            )
            window.clear()
            score = val_acc + config.cam_select_weight * val_cam
            if kept is None or not config.keep_best or score >= kept.score:
                kept = _Kept(score, val_acc, step + 1, copy.deepcopy(model.state_dict()))
        shown = {"loss": ema_loss, "acc": ema_acc, "val": val_acc, "cam_hit": val_cam}
        postfix = {key: f"{value:.3f}" for key, value in shown.items()}
        if level is not None:
            postfix["difficulty"] = f"{level:.2f}"
        bar.set_postfix(postfix)
        bar.update(1)
    bar.close()
    if kept is None:
        raise RuntimeError("training ran no steps")
    model.load_state_dict(kept.state)
    model.eval()
    return curve, kept


def scratch_run(
    config: TrainConfig, train: SplitArrays, bank: BackgroundBank, device: torch.device
) -> _Run:
    """The curriculum recipe (see :mod:`classifier.recipe`): ``config.steps`` batches drawn
    fresh (backgrounds from ``bank.train`` only) and mixed with the fixed train split."""
    model = _init_model(config, imagenet=False, device=device)
    params = list(model.parameters())
    groups = [  # no decay on norms and biases
        {"params": [p for p in params if p.ndim > 1], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=config.lr, fused=True)  # one kernel: 0.026 vs 0.042 s/step
    fixed = (train.images, train.labels) if config.fixed_fraction > 0 else (None, None)
    return _Run(
        model,
        opt,
        batches=batch_stream(config, bank.train, train.images.shape[1:3], *fixed),
        desc="train from scratch",
        total=config.steps,
        eval_at=lambda step: step % config.eval_every == 0,
        lr_at=lambda step: learning_rate(step, config),
        label_smoothing=config.label_smoothing,
    )


def finetune_run(config: TrainConfig, train: SplitArrays, device: torch.device) -> _Run:
    """The template's recipe: ImageNet ResNet-18, AdamW (lr ``finetune_lr``, weight decay
    ``weight_decay``), ``finetune_epochs`` epochs of shuffled batches of the fixed train split,
    one evaluation per epoch."""
    model = _init_model(config, imagenet=True, device=device)
    opt = torch.optim.AdamW(
        model.parameters(), lr=config.finetune_lr, weight_decay=config.weight_decay
    )
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0xF7]))
    per_epoch = -(-len(train) // config.batch_size)

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray, None]]:
        for _ in range(config.finetune_epochs):
            order = rng.permutation(len(train))
            for i in range(per_epoch):
                idx = order[i * config.batch_size : (i + 1) * config.batch_size]
                yield train.images[idx], train.labels[idx], None

    return _Run(
        model,
        opt,
        batches=batches(),
        desc="fine-tune ImageNet weights",
        total=config.finetune_epochs * per_epoch,
        eval_at=lambda step: step % per_epoch == 0,
        lr_at=None,
        label_smoothing=0.0,
    )


def resolve_recipe(config: TrainConfig, try_download: bool = True) -> tuple[str, str]:
    """(recipe name, note): ``"auto"`` becomes the fine-tune when ImageNet weights are available."""
    if config.recipe == SCRATCH:
        return SCRATCH, "from scratch (recipe chosen explicitly)"
    available, note = find_imagenet_weights(try_download=try_download)
    if config.recipe == FINETUNE and not available:
        raise RuntimeError(f"recipe {FINETUNE!r} needs ImageNet weights: {note}")
    if available:
        return FINETUNE, note
    return SCRATCH, f"{note}; training from scratch with the curriculum recipe"


def train_classifier(
    data_root: Path | str,
    config: TrainConfig | None = None,
    device: torch.device | str = "cpu",
    progress: bool = True,
    recipe: tuple[str, str] | None = None,
    fingerprint: str | None = None,
) -> tuple[nn.Module, TrainingInfo]:
    """Train on the dataset at ``data_root`` (no caching; see ``classifier.load_or_train``).

    Args:
        data_root: dataset in the course layout with train, val and test splits.
        config: the settings (default ``TrainConfig()``).
        recipe, fingerprint: :func:`resolve_recipe`'s pair and ``dataset_fingerprint``, when
            already computed.

    Returns:
        (model in eval mode, contiguous memory format, on ``device``; its TrainingInfo with
        ``checkpoint=''``). The test split is evaluated once, after training.
    """
    config = TrainConfig() if config is None else config
    data_root = Path(data_root)
    device = torch.device(device)
    name, note = recipe if recipe is not None else resolve_recipe(config)
    log.warning("classifier: %s -> recipe %s", note, name)
    # read every split before training: a broken test file must not surface after minutes
    train, val, test = (SyntheticData(data_root, split).arrays() for split in SPLITS)
    start = time.perf_counter()
    if name == FINETUNE:
        run = finetune_run(config, train, device)
    else:
        config = resolve_data_settings(data_root, config)
        run = scratch_run(config, train, load_backgrounds(config.backgrounds), device)
    prob = config.hot_mask_prob if name == SCRATCH else 0.0  # the fine-tune trains as is
    with hot_mask(default_target_layer(run.model), prob, config.hot_mask_threshold):
        curve, kept = _run_loop(run, val, device, config, progress)
    seconds = time.perf_counter() - start
    model = run.model.to(memory_format=torch.contiguous_format)
    bf16 = use_bf16(config.precision, device)
    # report float32 accuracies, as the model is used
    val_acc = accuracy(model, val, device) if bf16 else kept.val_acc
    test_acc = accuracy(model, test, device)
    info = TrainingInfo(
        recipe=name,
        imagenet_weights=name == FINETUNE,
        weights_note=note,
        test_accuracy=test_acc,
        val_accuracy=val_acc,
        best_step=kept.step,
        train_seconds=seconds,
        curve=curve,
        config=config.to_dict(),
        fingerprint=fingerprint or dataset_fingerprint(data_root),
        precision="bf16" if bf16 else "fp32",
        # CAM hit rates on whole splits in float32, as benchmark_strategies measures them
        val_cam_hit=cam_argmax_hit_rate(model, val, device),
        test_cam_hit=cam_argmax_hit_rate(model, test, device),
        device=describe_device(device),
    )
    return model, info
