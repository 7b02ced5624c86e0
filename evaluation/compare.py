"""The comparison behind ``scripts/compare_strategies.py``, as named steps.

:func:`run_comparison` runs them in order:

1. :func:`check_inputs`: every check of the user's input before any expensive step (every
   strategy pattern matches, the segmenter and CAM method are known, ``--out`` is a writable
   folder, the dataset exists -- only the default location is generated without
   ``--generate`` -- every split that will be used opens, and the segmenter loads);
2. the evaluation split in memory;
3. :func:`get_classifier`: the ``--classifier-checkpoint``, or the preset's classifier from the
   checkpoint cache (trained first when not cached);
4. :func:`cached_cams`: the split's CAMs, computed once (cached on disk; an unreadable entry is
   reported, deleted and recomputed);
5. :func:`evaluate_strategy` for every selected strategy, then (:func:`evaluate_variants`) for
   the mask-selection and refinement variants of the best ones: masks from the chosen back end
   for the strategy's points (the image encoder runs once per image whatever the number of
   strategies), scored with :mod:`metrics` into one summary row and one row per image
   (:func:`add_result`);
6. :func:`evaluate_supervised`: the same rows for each trained supervised reference model;
7. what the run used, saved with the results as ``settings``.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from cam import GradCAM, GradCAMPlusPlus, LayerCAM
from classifier import load_or_train
from classifier.layers import resolve_layer
from classifier.loading import CLASSIFIER_PRESETS, classifier_config, load_classifier_checkpoint
from common.atomic import atomic_write, ensure_writable_dir, read_or_discard
from common.errors import UserError
from evaluation.predictions import Predictions
from evaluation.results import ComparisonResults
from metrics import iou_per_image, point_distances, points_inside, shape_contrasts, summarize_run
from prompting import get_strategy, list_strategies
from sam_pipelines import (
    MASK_SELECTIONS,
    SamCheckpointError,
    SegmenterError,
    back_end,
    make_segmenter,
    segment_image,
)
from shapes import CLASSES, SyntheticData, dataset_fingerprint
from shapes.backgrounds import load_backgrounds
from shapes.classes import SPLITS
from shapes.generate import GenerationConfig, generate_dataset
from shapes.params import read_opacity
from shapes.transforms import normalize_uint8
from supervised import load_reference_models, predict_masks

DEFAULT_DATA = Path("data/synthetic_shapes")
#: CAM method names accepted by ``--cam-method``.
CAM_METHODS = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "layercam": LayerCAM}


@dataclass(frozen=True)
class CompareConfig:
    """Settings of a comparison run: one field per option of ``compare_strategies.py`` (whose
    ``--help`` explains them), with its default; saved with the results."""

    data: Path = DEFAULT_DATA
    generate: bool = False
    out: Path = Path("figures")
    backgrounds: str = "builtin"
    seed: int = 0
    split: str = "test"
    limit: int | None = None
    strategies: tuple[str, ...] = ("*",)
    segmenter: str = "auto"
    sam_checkpoint: Path | None = None
    sam_model_type: str = "vit_b"
    cam_method: str = "gradcam"
    target_layer: str = "layer2[-1]"
    mask_selection: str = "score"
    refine: bool = False
    variants: bool = True
    batch_size: int = 64
    cache_dir: Path = Path(".cache")
    checkpoints: Path = Path("checkpoints")
    classifier_preset: str = "default"
    classifier_checkpoint: Path | None = None
    supervised: bool = True
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise UserError(f"--limit must be >= 1, got {self.limit}")
        if self.batch_size < 1:
            raise UserError(f"--batch-size must be >= 1, got {self.batch_size}")
        if self.split not in SPLITS:
            raise UserError(f"--split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.classifier_preset not in CLASSIFIER_PRESETS:
            raise UserError(
                f"--classifier-preset must be one of {', '.join(CLASSIFIER_PRESETS)}, "
                f"got {self.classifier_preset!r}"
            )
        if not self.strategies:
            raise UserError("--strategies needs at least one name or pattern")


@dataclass(frozen=True)
class Inputs:
    """What :func:`check_inputs` established before anything expensive ran."""

    root: Path  # the dataset
    present: tuple[str, ...]  # its splits
    strategies: list[str]  # the selected strategy names, sorted
    segmenter: Any  # the opened back end


@dataclass(frozen=True)
class Points:
    """One strategy's points on every image of the split."""

    coords: np.ndarray  # int (N, K, 2) as (X, Y)
    labels: np.ndarray  # int (N, K): 1 foreground, 0 background
    seconds: float  # wall time of the strategy over the split


# ------------------------------------------------------------------------------ 1. checks
def ensure_dataset(config: CompareConfig) -> Path:
    """``config.data`` if it holds a dataset, else generate one there (``config.backgrounds``).

    Only the default location, or any location with ``config.generate``, is generated: a
    mistyped ``--data`` is an error, not the start of minutes of generation and training.

    Raises:
        common.UserError: ``--data`` exists but is no dataset, or does not exist and may not be
            generated.
    """
    if (config.data / "images").is_dir():
        return config.data
    if config.data.exists():
        raise UserError(
            f"--data {config.data} is not a dataset in the course layout (it has no images/ folder)"
        )
    if not config.generate and config.data != DEFAULT_DATA:
        raise UserError(
            f"--data {config.data} does not exist; check the path, or pass --generate to "
            "generate a dataset there"
        )
    print(
        f"no dataset at {config.data}: generating one from backgrounds '{config.backgrounds}'",
        file=sys.stderr,
    )
    bank = load_backgrounds(config.backgrounds, cache_dir=config.data.parent, seed=config.seed)
    return generate_dataset(config.data, bank, GenerationConfig(seed=config.seed))


def check_splits(root: Path, config: CompareConfig) -> tuple[str, ...]:
    """Open (header and checksums only) every file of every split the run will use.

    The evaluation split is always used; training the classifier (no
    ``--classifier-checkpoint``) uses train, val and test.

    Returns:
        The splits present in ``root``, in ``SPLITS`` order.

    Raises:
        common.UserError: a needed split is missing (saying what to give instead), or a file
            of a needed split is unreadable (naming it).
    """
    present = tuple(s for s in SPLITS if (root / "images" / s).is_dir())
    if config.split not in present:
        raise UserError(
            f"--split {config.split}: {root} has no {config.split} split (no "
            f"{root / 'images' / config.split} folder)"
        )
    needed = {config.split}
    if config.classifier_checkpoint is None:
        missing = [s for s in SPLITS if s not in present]
        if missing:
            raise UserError(
                f"{root} has no {' / '.join(missing)} split, which training the classifier "
                "needs; give a trained one with --classifier-checkpoint"
            )
        needed.update(SPLITS)
    for split in SPLITS:
        if split in needed:
            SyntheticData(root, split).check_files()  # type: ignore[arg-type]
    return present


def select_strategies(patterns: tuple[str, ...]) -> list[str]:
    """Sorted names of the registered strategies matching any pattern (fnmatch wildcards).

    Raises:
        common.UserError: a pattern matches no strategy (with the closest name).
    """
    known = list_strategies()
    names: set[str] = set()
    for pattern in patterns:
        matched = list_strategies(pattern)
        if not matched:
            close = difflib.get_close_matches(pattern, known, n=1, cutoff=0.0)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(
                f"--strategies: {pattern!r} matches no strategy{hint}; known: {', '.join(known)}"
            )
        names.update(matched)
    return sorted(names)


def check_inputs(config: CompareConfig) -> Inputs:
    """Every check of the user's input, cheapest first; the segmenter is opened last (a SAM
    back end may load or fetch weights).

    Raises:
        common.UserError: the first problem found (see the module docstring).
    """
    names = select_strategies(config.strategies)
    try:
        back_end(config.segmenter)
    except SegmenterError as exc:
        raise UserError(f"--segmenter {config.segmenter}: {exc}") from exc
    if config.cam_method not in CAM_METHODS:
        raise UserError(
            f"--cam-method must be one of {', '.join(sorted(CAM_METHODS))}, "
            f"got {config.cam_method!r}"
        )
    ensure_writable_dir(config.out, "--out")
    root = ensure_dataset(config)
    present = check_splits(root, config)
    try:
        segmenter = make_segmenter(
            config.segmenter,
            checkpoint=config.sam_checkpoint,
            model_type=config.sam_model_type,
            device=config.device,
        )
    except (SegmenterError, SamCheckpointError) as exc:
        raise UserError(f"--segmenter {config.segmenter}: {exc}") from exc
    return Inputs(root, present, names, segmenter)


# ------------------------------------------------------------------------------ 2-4. data, model
def get_classifier(
    config: CompareConfig, inputs: Inputs, fingerprint: str
) -> tuple[nn.Module, Any]:
    """(model, ``TrainingInfo``): the ``--classifier-checkpoint`` (checked against the dataset
    when it has every split), else the preset's classifier from the cache or trained."""
    if config.classifier_checkpoint is None:
        return load_or_train(
            inputs.root,
            classifier_config(config.classifier_preset),
            cache_dir=config.checkpoints,
            device=config.device,
        )
    full = set(SPLITS) <= set(inputs.present)
    if not full:
        print(
            f"{inputs.root} has only the {', '.join(inputs.present)} split(s): using the "
            f"classifier {config.classifier_checkpoint} without checking what it was trained on",
            file=sys.stderr,
        )
    return load_classifier_checkpoint(
        config.classifier_checkpoint, fingerprint if full else None, config.device
    )


def cached_cams(
    model: nn.Module,
    images: np.ndarray,
    method: str,
    layer: str,
    cache_dir: Path,
    data_key: str,
    batch_size: int = 64,
    device: str = "cpu",
) -> np.ndarray:
    """CAMs of the top class of uint8 images (N, H, W, 3) -> float32 (N, H, W) in 0..1, with an
    on-disk cache in ``cache_dir`` keyed by ``data_key`` (which images), the model's weights,
    the method and the layer; an unreadable entry is reported, deleted and recomputed."""
    if method not in CAM_METHODS:
        raise ValueError(f"unknown CAM method {method!r}; expected one of {sorted(CAM_METHODS)}")
    weights = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        weights.update(name.encode())
        weights.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    key = hashlib.sha256(f"{data_key}|{weights.hexdigest()[:16]}|{method}|{layer}".encode())
    path = cache_dir / f"{key.hexdigest()[:20]}.npy"
    expected = images.shape[:3]

    def read(entry: Path) -> np.ndarray:
        cams = np.load(entry, allow_pickle=False)
        if cams.shape != expected or cams.dtype != np.float32:
            raise ValueError(f"holds {cams.dtype} {cams.shape}, expected float32 {expected}")
        return cams

    cached = read_or_discard(path, read, "CAM cache entry")
    if cached is not None:
        return cached
    model = model.to(device).eval()
    cams = np.empty(expected, dtype=np.float32)
    with CAM_METHODS[method](model, [resolve_layer(model, layer)]) as cam:
        for start in tqdm(range(0, len(images), batch_size), desc=f"{method} CAMs", leave=False):
            x = normalize_uint8(images[start : start + batch_size]).to(device)
            cams[start : start + len(x)] = cam(x, None)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.save(f, cams)

    atomic_write(path, write)
    return cams


# ------------------------------------------------------------------------------ 5-6. rows
def add_result(
    results: ComparisonResults,
    name: str,
    kind: str,
    segmenter: str,
    coords: np.ndarray,
    labels: np.ndarray,
    pred: np.ndarray,
    **extra: Any,
) -> None:
    """Score one row's points (int (N, K, 2) as (X, Y), labels (N, K); K = 0 for a model
    without points) and masks bool (N, H, W) on ``data``, and add its summary row (the
    :func:`metrics.summarize_run` numbers, then ``extra``), its arrays and one per-image row
    per image (its points, their hits and distances, the IoU, the shape's ``contrast`` of
    :func:`metrics.shape_contrast` and its ``opacity`` when the dataset records it; columns
    empty where there is no such value). The images and true masks are those of
    ``results.predictions``."""
    data = results.predictions
    if data is None:
        raise ValueError("these results hold no predictions to add to")
    summary = summarize_run(coords, labels, data.gt_masks, pred, data.classes, CLASSES)
    row = {
        "strategy": name,
        "kind": kind,
        "segmenter": segmenter,
        "n_images": len(data.names),
        **summary,
        **extra,
    }
    inside = points_inside(coords, data.gt_masks)
    dist = point_distances(coords, data.gt_masks)
    ious = iou_per_image(pred, data.gt_masks)
    contrast = shape_contrasts(data.images, data.gt_masks)
    opacity = data.opacity if data.opacity is not None else np.full(len(data.names), np.nan)
    rows = []
    for i in range(len(data.names)):
        image_row: dict[str, Any] = {
            "image": str(data.names[i]),
            "index": i,
            "class": CLASSES[int(data.classes[i])],
            "strategy": name,
            "kind": kind,
            "segmenter": segmenter,
        }
        for prefix, label in (("fg", 1), ("bg", 0)):
            chosen = labels[i] == label
            known = chosen & ~np.isnan(dist[i])
            image_row[f"{prefix}_points"] = ";".join(f"{x} {y}" for x, y in coords[i][chosen])
            hit = float(inside[i][chosen].mean()) if chosen.any() else ""
            image_row[f"{prefix}_hit_rate"] = hit
            image_row[f"{prefix}_distance_px"] = float(dist[i][known].mean()) if known.any() else ""
        image_row["iou"] = float(ious[i])
        image_row["contrast"] = "" if np.isnan(contrast[i]) else round(float(contrast[i]), 3)
        image_row["opacity"] = "" if np.isnan(opacity[i]) else round(float(opacity[i]), 4)
        rows.append(image_row)
    results.add(row, rows, coords, labels, pred)


def evaluate_strategy(
    results: ComparisonResults,
    segmenter: Any,
    strategy: Any,
    points: Points,
    mask_selection: str,
    refine: bool,
    name: str,
) -> None:
    """Segment ``points`` (the registered ``strategy``'s) with ``segmenter`` (masks bool
    (N, H, W); the back end caches the encoder per image) and add the row ``name`` (the
    strategy's name, or a variant's label) to ``results``."""
    data = results.predictions
    assert data is not None
    start = time.perf_counter()
    pred = np.empty(data.gt_masks.shape, dtype=bool)
    for i in tqdm(range(len(data.images)), desc=f"segment {name}", leave=False):
        pred[i] = segment_image(
            segmenter,
            data.images[i],
            points.coords[i],
            points.labels[i],
            cam=data.cams[i],
            mask_selection=mask_selection,
            refine=refine,
        ).mask
    add_result(
        results,
        name,
        strategy.kind,
        segmenter.name,
        points.coords,
        points.labels,
        pred,
        mask_selection=mask_selection,
        refine=refine,
        points_ms_per_image=1000 * points.seconds / len(data.names),
        segment_s=time.perf_counter() - start,
        description=strategy.description,
    )


def evaluate_variants(
    results: ComparisonResults,
    segmenter: Any,
    points: dict[str, Points],
    config: CompareConfig,
) -> None:
    """For the best ``fg`` and the best ``fg+bg`` strategy by mean IoU (those that exist), a
    row per (mask selection, refine) pair other than the configured one."""
    bests = []
    for kind in ("fg", "fg+bg"):
        candidates = [r for r in results.rows if r["kind"] == kind]
        if candidates:
            bests.append(max(candidates, key=lambda r: r["miou"])["strategy"])
    for base in bests:
        for selection in MASK_SELECTIONS:
            for refine in (False, True):
                if (selection, refine) == (config.mask_selection, config.refine):
                    continue
                label = f"{base} [select={selection}{', refine' if refine else ''}]"
                strategy = get_strategy(base)
                evaluate_strategy(
                    results, segmenter, strategy, points[base], selection, refine, label
                )


def evaluate_supervised(results: ComparisonResults, cache_dir: Path, fingerprint: str) -> None:
    """Add a row per trained supervised reference model whose checkpoint exists (else none)."""
    data = results.predictions
    assert data is not None
    n = len(data.names)
    no_coords, no_labels = np.zeros((n, 0, 2), np.int64), np.zeros((n, 0), np.int64)
    for name, model, info in load_reference_models(cache_dir, data_fingerprint=fingerprint):
        pred = predict_masks(model, data.images)
        add_result(
            results,
            name,
            "supervised",
            name,
            no_coords,
            no_labels,
            pred,
            description=f"supervised {name} trained on the train split's masks",
            training=info,
        )


# ------------------------------------------------------------------------------ 7. the run
def run_comparison(config: CompareConfig) -> ComparisonResults:
    """Run the whole comparison (see the module docstring) and return its results in memory;
    ``results.settings`` is what the run used (paths as strings, tuples as lists)."""
    torch.manual_seed(config.seed)
    inputs = check_inputs(config)
    fingerprint = dataset_fingerprint(inputs.root)
    arrays = SyntheticData(inputs.root, config.split).arrays()  # type: ignore[arg-type]
    if config.limit is not None:
        arrays = arrays.subset(np.arange(min(config.limit, len(arrays))))
    model, info = get_classifier(config, inputs, fingerprint)
    cams = cached_cams(
        model,
        arrays.images,
        config.cam_method,
        config.target_layer,
        config.cache_dir / "cams",
        f"{fingerprint}|{config.split}|{config.limit}",
        config.batch_size,
        config.device,
    )

    data = Predictions(np.array(arrays.names), arrays.images, arrays.masks, arrays.labels, cams)
    data.opacity = read_opacity(inputs.root, config.split, arrays.names)
    results = ComparisonResults({}, predictions=data)
    segmenter = inputs.segmenter
    points: dict[str, Points] = {}
    for name in tqdm(inputs.strategies, desc="strategies"):
        strategy = get_strategy(name)
        start = time.perf_counter()
        coords, labels = strategy(cams, arrays.images, arrays.masks if strategy.oracle else None)
        points[name] = Points(coords, labels, time.perf_counter() - start)
        sel, refine = config.mask_selection, config.refine
        evaluate_strategy(results, segmenter, strategy, points[name], sel, refine, name)
    if config.variants:
        evaluate_variants(results, segmenter, points, config)
    if config.supervised:
        evaluate_supervised(results, config.checkpoints, fingerprint)
    options = {
        k: str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v
        for k, v in dataclasses.asdict(config).items()
    }
    results.settings = {
        "config": options,
        "dataset": {
            "path": str(inputs.root),
            "fingerprint": fingerprint,
            "split": config.split,
            "n_images": len(arrays),
        },
        "classifier": info.to_dict(),
        "segmenter": segmenter.describe(),
        "segmenter_kind": getattr(segmenter, "kind", "unknown"),
        "torch": torch.__version__,
    }
    return results
