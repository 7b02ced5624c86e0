"""The comparison behind ``scripts/compare_strategies.py``; :func:`run_comparison` runs:

1. :func:`check_inputs`: every check of the user's input before any expensive step;
2. the evaluation split in memory, the classifier (:func:`get_classifier`: ``--data``'s, or
   ``--classifier-data``'s for a test-only draw), its CAMs (:func:`cached_cams`) and its
   predicted class for every image (with its accuracy on them, and a warning at chance);
3. :func:`segment_rows`: every selected strategy's points and masks, then the mask-selection and
   refinement variants of the best ones, each scored by :func:`add_result`;
4. :func:`evaluate_supervised`: the same rows for each trained supervised reference model;
5. what the run used, saved with the results as ``settings``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from cam import GradCAM, GradCAMPlusPlus, LayerCAM
from cam.base import shift_heatmaps
from classifier import load_or_train, predict_classes
from classifier.chance import chance_warning
from classifier.layers import resolve_layer
from classifier.loading import CLASSIFIER_PRESETS, classifier_config, load_classifier_checkpoint
from common.atomic import atomic_write, ensure_writable_dir, read_or_discard
from common.device import describe_device, resolve_device
from common.errors import UserError
from common.lookup import lookup
from evaluation.predictions import Predictions
from evaluation.results import ComparisonResults
from metrics import iou_per_image, point_distances, points_inside, shape_contrasts, summarize_run
from prompting import get_strategy, list_strategies
from prompting.calibration import measured_heat_offset
from sam_pipelines import (
    MASK_SELECTIONS,
    SamCheckpointError,
    SegmenterError,
    back_end,
    make_segmenter,
    segment_image,
)
from sam_pipelines.prompt_batch import PromptJob, segment_prompt_sets
from sam_pipelines.sam_backend import PRECISIONS
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
#: Help text of the scripts' --cam-aug-smooth switch (`cached_cams`' ``aug_smooth``).
CAM_AUG_SMOOTH_HELP = (
    "average the CAMs of the image, its mirror and half-cell shifted copies "
    "(test-time augmentation, 4x the CAM cost; see cam.BaseCAM)"
)


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
    #: LayerCAM since stop 29: on every val split of the stress suite its maps put the image-aware
    #: strategies' point in the shape at least as often as Grad-CAM's (docs/stress_suite.md).
    cam_method: str = "layercam"
    cam_aug_smooth: bool = False
    #: ``auto`` since stop 30: the maps' offset from the objects, measured without masks on
    #: the val split's images (`heat_offset`); ``none`` or ``DX,DY`` in px.
    heat_offset: str = "auto"
    target_layer: str = "layer2[-1]"
    mask_selection: str = "score"
    refine: bool = False
    variants: bool = True
    batch_size: int = 64
    cache_dir: Path = Path(".cache")
    checkpoints: Path = Path("checkpoints")
    classifier_preset: str = "default"
    classifier_checkpoint: Path | None = None
    classifier_data: Path | None = None
    supervised: bool = True
    device: str = "auto"
    sam_batched: bool = True
    sam_batch_size: int = 16
    sam_precision: str = "auto"
    embedding_cache: bool = True
    embedding_cache_gib: float = 4.0

    def __post_init__(self) -> None:
        _at_least("--limit", self.limit, 1)
        _at_least("--batch-size", self.batch_size, 1)
        _one_of("--split", self.split, SPLITS)
        _one_of("--classifier-preset", self.classifier_preset, CLASSIFIER_PRESETS)
        if not self.strategies:
            raise UserError("--strategies needs at least one name or pattern")
        _at_least("--sam-batch-size", self.sam_batch_size, 1)
        _one_of("--sam-precision", self.sam_precision, PRECISIONS)
        _at_least("--embedding-cache-gib", self.embedding_cache_gib, 0)
        parse_heat_offset(self.heat_offset)


def parse_heat_offset(value: str) -> tuple[float, float] | None:
    """``--heat-offset``: None for ``auto`` (estimate it), (0, 0) for ``none``, else the
    ``DX,DY`` pair in px (X right, Y down)."""
    if value == "auto":
        return None
    if value == "none":
        return (0.0, 0.0)
    parts = value.split(",")
    try:
        dx, dy = (float(part) for part in parts)
    except ValueError:
        raise UserError(
            f"--heat-offset must be auto, none or DX,DY in px (e.g. 2.8,0.7), got {value!r}"
        ) from None
    if not (np.isfinite(dx) and np.isfinite(dy)):
        raise UserError(f"--heat-offset must be finite, got {value!r}")
    return (dx, dy)


def _at_least(option: str, value: float | None, low: int) -> None:
    if value is not None and value < low:
        raise UserError(f"{option} must be >= {low}, got {value}")


def _one_of(option: str, value: str, choices: Iterable[str]) -> None:
    if value not in choices:
        raise UserError(f"{option} must be one of {', '.join(choices)}, got {value!r}")


def embedding_cache_dir(cache_dir: Path) -> Path:
    """Where SAM image embeddings persist between runs: ``<cache_dir>/sam_embeddings``."""
    return cache_dir / "sam_embeddings"


@dataclass(frozen=True)
class Inputs:
    """What :func:`check_inputs` established before anything expensive ran."""

    root: Path  # the dataset
    present: tuple[str, ...]  # its splits
    strategies: list[str]  # the selected strategy names, sorted
    segmenter: Any  # the opened back end
    device: torch.device  # what --device resolved to
    classifier_root: Path  # the dataset the classifier belongs to: --classifier-data or root


@dataclass(frozen=True)
class Points:
    """One strategy's points on every image of the split."""

    coords: np.ndarray  # int (N, K, 2) as (X, Y)
    labels: np.ndarray  # int (N, K): 1 foreground, 0 background
    seconds: float  # wall time of the strategy over the split


# ------------------------------------------------------------------------------ 1. checks
def not_a_dataset(option: str, path: Path) -> UserError:
    """The error for an ``option`` whose ``path`` holds no dataset in the course layout."""
    return UserError(
        f"{option} {path} is not a dataset in the course layout (it has no images/ folder)"
    )


def ensure_dataset(config: CompareConfig) -> Path:
    """``config.data`` if it holds a dataset, else a dataset generated there (from
    ``config.backgrounds``) when it is the default location or ``config.generate`` is set.

    Raises:
        common.UserError: ``--data`` is no dataset, or is missing and may not be generated.
    """
    if (config.data / "images").is_dir():
        return config.data
    if config.data.exists():
        raise not_a_dataset("--data", config.data)
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


def select_strategies(patterns: tuple[str, ...]) -> list[str]:
    """Sorted names of the registered strategies matching any pattern (fnmatch wildcards); a
    pattern that matches none raises a :class:`common.UserError` naming the closest."""
    names: set[str] = set()
    for pattern in patterns:
        matched = list_strategies(pattern)
        if not matched:
            known = dict.fromkeys(list_strategies())
            lookup(pattern, known, "--strategies pattern", plural="strategies", error=UserError)
        names.update(matched)
    return sorted(names)


def check_inputs(config: CompareConfig) -> Inputs:
    """Every check of the user's input, cheapest first (strategy patterns, device, segmenter
    name, CAM method, a writable ``--out``, the dataset and its splits: every file of the
    evaluation split, and of every split when the classifier is to be trained, is opened, header
    and checksums only), then the segmenter is opened; the first problem found raises a
    :class:`common.UserError`."""
    names = select_strategies(config.strategies)
    device = resolve_device(config.device)
    try:
        entry = back_end(config.segmenter)
    except SegmenterError as exc:
        raise UserError(f"--segmenter {config.segmenter}: {exc}") from exc
    _one_of("--cam-method", config.cam_method, CAM_METHODS)
    ensure_writable_dir(config.out, "--out")
    root = ensure_dataset(config)
    present = tuple(s for s in SPLITS if (root / "images" / s).is_dir())
    if config.split not in present:
        raise UserError(
            f"--split {config.split}: {root} has no {config.split} split (no "
            f"{root / 'images' / config.split} folder)"
        )
    classifier_root = classifier_dataset(config, root)
    trains = config.classifier_checkpoint is None
    missing = [s for s in SPLITS if not (classifier_root / "images" / s).is_dir()]
    if trains and missing:
        raise UserError(
            f"{classifier_root} has no {' / '.join(missing)} split, which training the "
            "classifier needs; give a trained one with --classifier-checkpoint, or the dataset "
            "it was trained on with --classifier-data"
        )
    checked = {(root, config.split)} | {(classifier_root, s) for s in SPLITS if trains}
    for folder, split in sorted(checked):
        SyntheticData(folder, split).check_files()  # type: ignore[arg-type]
    sam_options = {
        "precision": config.sam_precision,
        "cache_dir": embedding_cache_dir(config.cache_dir) if config.embedding_cache else None,
        "disk_cache_bytes": int(config.embedding_cache_gib * 2**30),
    }
    try:
        segmenter = make_segmenter(
            config.segmenter,
            checkpoint=config.sam_checkpoint,
            model_type=config.sam_model_type,
            device=str(device),
            **({} if entry.kind == "classical" else sam_options),
        )
    except (SegmenterError, SamCheckpointError) as exc:
        raise UserError(f"--segmenter {config.segmenter}: {exc}") from exc
    return Inputs(root, present, names, segmenter, device, classifier_root)


def classifier_dataset(config: CompareConfig, root: Path) -> Path:
    """The dataset whose classifier the run uses: ``--classifier-data`` (the preset's
    classifier trained there, e.g. for a fresh test-only draw of the same distribution), else
    ``root`` (``--data``).

    Raises:
        common.UserError: ``--classifier-data`` is no dataset in the course layout, or comes
            with ``--classifier-checkpoint``.
    """
    if config.classifier_data is None:
        return root
    if config.classifier_checkpoint is not None:
        raise UserError(
            "--classifier-data and --classifier-checkpoint name two classifiers; give one"
        )
    if not (config.classifier_data / "images").is_dir():
        raise not_a_dataset("--classifier-data", config.classifier_data)
    return config.classifier_data


# ------------------------------------------------------------------------------ 2-4. data, model
def get_classifier(
    config: CompareConfig, inputs: Inputs, fingerprint: str
) -> tuple[nn.Module, Any]:
    """(model, ``TrainingInfo``): the ``--classifier-checkpoint`` (checked against the dataset
    when it has every split), else the preset's classifier of ``inputs.classifier_root`` from
    the cache or trained."""
    if config.classifier_checkpoint is None:
        return load_or_train(
            inputs.classifier_root,
            classifier_config(config.classifier_preset),
            cache_dir=config.checkpoints,
            device=str(inputs.device),
        )
    full = set(SPLITS) <= set(inputs.present)
    if not full:
        print(
            f"{inputs.root} has only the {', '.join(inputs.present)} split(s): using the "
            f"classifier {config.classifier_checkpoint} without checking what it was trained on",
            file=sys.stderr,
        )
    return load_classifier_checkpoint(
        config.classifier_checkpoint, fingerprint if full else None, str(inputs.device)
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
    aug_smooth: bool = False,
) -> np.ndarray:
    """CAMs of the top class of uint8 images (N, H, W, 3) -> float32 (N, H, W) in 0..1, with an
    on-disk cache in ``cache_dir`` keyed by ``data_key`` (which images), the model's weights,
    the method, the layer and ``aug_smooth`` (:class:`cam.BaseCAM`'s test-time augmentation);
    an unreadable entry is reported, deleted and recomputed."""
    if method not in CAM_METHODS:
        raise ValueError(f"unknown CAM method {method!r}; expected one of {sorted(CAM_METHODS)}")
    weights = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        weights.update(name.encode())
        weights.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    smooth = "|aug_smooth" if aug_smooth else ""  # plain maps keep their old cache keys
    key = hashlib.sha256(f"{data_key}|{weights.hexdigest()[:16]}|{method}|{layer}{smooth}".encode())
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
    with CAM_METHODS[method](model, [resolve_layer(model, layer)], aug_smooth=aug_smooth) as cam:
        for start in tqdm(range(0, len(images), batch_size), desc=f"{method} CAMs", leave=False):
            x = normalize_uint8(images[start : start + batch_size]).to(device)
            cams[start : start + len(x)] = cam(x, None)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.save(f, cams)

    atomic_write(path, write)
    return cams


#: How many val images the ``auto`` heat-map offset is measured on.
OFFSET_IMAGES = 300


def heat_offset(
    config: CompareConfig,
    model: nn.Module,
    root: Path,
    fingerprint: str,
    device: str,
    fallback: tuple[np.ndarray, np.ndarray],
    fallback_is_val: bool = False,
) -> dict[str, Any]:
    """The offset the comparison moves its maps back by, as saved with the results: ``dx``,
    ``dy`` (px) and ``how``. ``auto`` measures it with
    :func:`prompting.calibration.measured_heat_offset` on the first :data:`OFFSET_IMAGES`
    images of the val split of ``root`` (the classifier's dataset, ``fingerprint``; their
    unshifted maps; no masks or labels are read), or, for a dataset without a val split, on
    ``fallback``: the evaluated split's (uint8 images (N, H, W, 3), unshifted maps (N, H, W));
    ``fallback`` also serves when it is the whole val split of ``root``
    (``fallback_is_val``), whose maps are then not computed twice."""
    given = parse_heat_offset(config.heat_offset)
    if given is not None:
        how = "none" if given == (0.0, 0.0) else "given (--heat-offset)"
        return {"dx": given[0], "dy": given[1], "agreement": None, "how": how}
    if (root / "images" / "val").is_dir() and not fallback_is_val:
        val = SyntheticData(root, "val").arrays()
        images = val.images[:OFFSET_IMAGES]
        cams = cached_cams(
            model,
            images,
            config.cam_method,
            config.target_layer,
            config.cache_dir / "cams",
            f"{fingerprint}|val|{OFFSET_IMAGES}",
            config.batch_size,
            device,
            config.cam_aug_smooth,
        )
        split = "val"
    else:
        images, cams = fallback[0][:OFFSET_IMAGES], fallback[1][:OFFSET_IMAGES]
        split = config.split
    return measured_heat_offset(cams, images, f"{len(images)} {split} images")


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
    without points) and masks bool (N, H, W) against ``results.predictions``, and add its
    summary row (the :func:`metrics.summarize_run` numbers, then ``extra``), its arrays and one
    per-image row per image (the classifier's ``predicted`` class, points, hits, distances, IoU,
    the shape's ``contrast`` and ``opacity``; empty where there is no such value)."""
    data = results.predictions
    summary = summarize_run(coords, labels, data.gt_masks, pred, data.classes, CLASSES)
    ident = {"strategy": name, "kind": kind, "segmenter": segmenter}
    row = {**ident, "n_images": len(data.names), **summary, **extra}
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
            "predicted": "" if data.predicted is None else CLASSES[int(data.predicted[i])],
            **ident,
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
    results.rows.append(row)
    results.per_image.extend(rows)
    data.add(name, coords, labels, pred)


@dataclass(frozen=True)
class Row:
    """One row to segment: its label, the strategy whose points it uses, how masks are made."""

    label: str
    strategy: str
    mask_selection: str
    refine: bool


def variant_rows(results: ComparisonResults, config: CompareConfig) -> list[Row]:
    """For the best ``fg`` and the best ``fg+bg`` strategy by mean IoU among ``results.rows``
    (those that exist), a row per (mask selection, refine) pair other than the configured one."""
    bests = []
    for kind in ("fg", "fg+bg"):
        candidates = [r for r in results.rows if r["kind"] == kind]
        if candidates:
            bests.append(max(candidates, key=lambda r: r["miou"])["strategy"])
    return [
        Row(f"{base} [select={selection}{', refine' if refine else ''}]", base, selection, refine)
        for base in bests
        for selection in MASK_SELECTIONS
        for refine in (False, True)
        if (selection, refine) != (config.mask_selection, config.refine)
    ]


def evaluate_rows(
    results: ComparisonResults,
    segmenter: Any,
    points: dict[str, Points],
    rows: list[Row],
    batched: bool,
    images_per_call: int = 16,
) -> float:
    """Segment ``rows`` (masks bool (N, H, W)) and add one result row each, in order; returns
    the wall time in seconds.

    Batched: the prompt sets of ``images_per_call`` images together
    (:func:`segment_prompt_sets`), each row's ``segment_s`` its share. Per-prompt: one image
    and one prompt set per call (:func:`sam_pipelines.segment_image`), each row's
    ``segment_s`` its own time.
    """
    data = results.predictions
    if not rows:
        return 0.0
    n = len(data.images)
    start = time.perf_counter()
    preds = {row.label: np.empty(data.gt_masks.shape, dtype=bool) for row in rows}
    seconds: dict[str, float] = {}
    if batched:
        row_points = [points[row.strategy] for row in rows]
        with tqdm(total=n, desc=f"segment {len(rows)} rows", unit="img", leave=False) as bar:
            for first in range(0, n, images_per_call):
                chunk = range(first, min(first + images_per_call, n))
                jobs = [
                    [
                        PromptJob(p.coords[i], p.labels[i], r.mask_selection, r.refine)
                        for r, p in zip(rows, row_points, strict=True)
                    ]
                    for i in chunk
                ]
                masks = segment_prompt_sets(
                    segmenter,
                    data.images[chunk.start : chunk.stop],
                    jobs,
                    data.cams[chunk.start : chunk.stop],
                )
                for i, image_masks in zip(chunk, masks, strict=True):
                    for row, mask in zip(rows, image_masks, strict=True):
                        preds[row.label][i] = mask
                bar.update(len(chunk))
        seconds = dict.fromkeys(preds, (time.perf_counter() - start) / len(rows))
    else:
        for row in rows:
            row_start, p = time.perf_counter(), points[row.strategy]
            for i in tqdm(range(n), desc=f"segment {row.label}", leave=False):
                preds[row.label][i] = segment_image(
                    segmenter,
                    data.images[i],
                    p.coords[i],
                    p.labels[i],
                    cam=data.cams[i],
                    mask_selection=row.mask_selection,
                    refine=row.refine,
                ).mask
            seconds[row.label] = time.perf_counter() - row_start
    total = time.perf_counter() - start
    for row in rows:
        strategy, p = get_strategy(row.strategy), points[row.strategy]
        add_result(
            results,
            row.label,
            strategy.kind,
            segmenter.name,
            p.coords,
            p.labels,
            preds[row.label],
            mask_selection=row.mask_selection,
            refine=row.refine,
            points_ms_per_image=1000 * p.seconds / len(data.names),
            segment_s=seconds[row.label],
            description=strategy.description,
            family=strategy.family,
        )
    return total


def segment_rows(
    results: ComparisonResults, segmenter: Any, names: list[str], config: CompareConfig
) -> dict[str, Any]:
    """A row per strategy in ``names`` (in order), then (``config.variants``) the
    :func:`variant_rows`, on ``results.predictions``; the path is ``config.sam_batched``'s.
    With SAM's batched path, the image encoder runs over batches of images first.

    Returns:
        ``path``, seconds of the encoder pass (batched path only), of the strategies' rows and
        of the variants' rows, and the back end's counters where it has them.
    """
    data = results.predictions
    batched = config.sam_batched
    timing: dict[str, Any] = {"path": "batched" if batched else "per-prompt"}
    start = time.perf_counter()
    points = {}
    for name in names:  # each strategy's points on every image, timed
        strategy, strategy_start = get_strategy(name), time.perf_counter()
        oracle_masks = data.gt_masks if strategy.oracle else None
        coords, labels = strategy(data.cams, data.images, oracle_masks)
        points[name] = Points(coords, labels, time.perf_counter() - strategy_start)
    encode = getattr(segmenter, "encode", None)
    if batched and encode is not None:
        encode_start = time.perf_counter()
        encode(data.images, config.sam_batch_size, progress=True, flush=False)
        timing["encoder_s"] = time.perf_counter() - encode_start
    rows = [Row(name, name, config.mask_selection, config.refine) for name in names]
    chunk = config.sam_batch_size
    evaluate_rows(results, segmenter, points, rows, batched, chunk)
    timing["strategies_s"] = time.perf_counter() - start
    if config.variants:
        variants = variant_rows(results, config)
        timing["variants_s"] = evaluate_rows(results, segmenter, points, variants, batched, chunk)
    flush = getattr(segmenter, "flush", None)
    if flush is not None:  # the embedding cache's background writes
        flush_start = time.perf_counter()
        flush()
        timing["cache_flush_s"] = time.perf_counter() - flush_start
    counters = [c for c in ("encoder_calls", "decoder_calls") if hasattr(segmenter, c)]
    timing |= {counter: getattr(segmenter, counter) for counter in counters}
    cache = getattr(segmenter, "cache", None)
    if cache is not None:
        directory = str(cache.directory) if cache.directory is not None else None
        counts = {key: getattr(cache, key) for key in ("hits", "disk_hits", "misses")}
        timing["embedding_cache"] = {"directory": directory, **counts}
    return timing


def evaluate_supervised(results: ComparisonResults, cache_dir: Path, fingerprint: str) -> None:
    """Add a row per trained supervised reference model whose checkpoint exists (else none)."""
    data = results.predictions
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
    same_data = inputs.classifier_root == inputs.root
    own = fingerprint if same_data else dataset_fingerprint(inputs.classifier_root)
    cams = cached_cams(
        model,
        arrays.images,
        config.cam_method,
        config.target_layer,
        config.cache_dir / "cams",
        f"{fingerprint}|{config.split}|{config.limit}",
        config.batch_size,
        str(inputs.device),
        config.cam_aug_smooth,
    )
    whole_val = same_data and config.split == "val" and config.limit is None
    offset = heat_offset(
        config,
        model,
        inputs.classifier_root,
        own,
        str(inputs.device),
        (arrays.images, cams),
        fallback_is_val=whole_val,
    )
    print(
        f"heat-map offset: dx {offset['dx']:+.2f} px, dy {offset['dy']:+.2f} px ({offset['how']})",
        file=sys.stderr,
    )
    cams = shift_heatmaps(cams, (offset["dx"], offset["dy"]))
    predicted = predict_classes(
        model.to(inputs.device), arrays.images, inputs.device, batch_size=config.batch_size
    )
    accuracy = float((predicted == arrays.labels).mean())
    print(f"classifier accuracy on these images: {100 * accuracy:.1f} %", file=sys.stderr)
    warning = chance_warning(accuracy, len(arrays), f"these {len(arrays)} {config.split} images")
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)

    data = Predictions(np.array(arrays.names), arrays.images, arrays.masks, arrays.labels, cams)
    data.opacity = read_opacity(inputs.root, config.split, arrays.names)
    data.predicted = predicted
    results = ComparisonResults({}, predictions=data)
    segmenter = inputs.segmenter
    print(f"device: {describe_device(inputs.device)}", file=sys.stderr)
    cache = getattr(segmenter, "cache", None)
    if cache is not None and cache.directory is not None:
        print(f"SAM image embeddings cached in {cache.directory}", file=sys.stderr)
    segmentation = segment_rows(results, segmenter, inputs.strategies, config)
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
            "classifier_accuracy": accuracy,
        },
        "classifier": info.to_dict(),
        "heat_offset": offset,
        "segmenter": segmenter.describe(),
        "segmenter_kind": getattr(segmenter, "kind", "unknown"),
        "segmentation": segmentation,
        "device": describe_device(inputs.device),
        "torch": torch.__version__,
    }
    return results
