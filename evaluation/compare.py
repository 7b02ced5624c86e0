"""The comparison behind ``scripts/compare_strategies.py``.

Steps: check everything the user gave before any expensive step (every strategy pattern
matches, the segmenter is known, ``--out`` is a writable folder, the dataset exists -- only
the default location is generated without ``--generate`` -- every split that will be used
opens, and the segmenter loads), load the evaluation split, load or train the classifier,
compute the CAMs of the evaluation split once (cached on disk; an unreadable entry is
reported, deleted and recomputed), run every selected strategy on them, segment with the
chosen back end (the image encoder runs once per image whatever the number of strategies),
score points and masks with :mod:`metrics`, and collect one summary row per strategy plus one
row per image and strategy.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from common.atomic import atomic_write, ensure_writable_dir, read_or_discard
from common.errors import UserError
from evaluation.layers import resolve_layer
from evaluation.predictions import Predictions
from shapes import CLASSES, SyntheticData, dataset_fingerprint
from shapes.classes import SPLITS

DEFAULT_DATA = Path("data/synthetic_shapes")


@dataclass(frozen=True)
class CompareConfig:
    """Settings of a comparison run (every field is a command-line option; saved with results)."""

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


HELP = {
    "data": "dataset folder in the course layout; only the default location is generated "
    "when missing (elsewhere pass --generate)",
    "generate": "generate a dataset at --data (with --backgrounds) when it does not exist",
    "out": "output folder for metrics.json/.csv/.tex and per_image.csv",
    "backgrounds": "background source used only if --data must be generated",
    "limit": "evaluate only the first N images of the split",
    "strategies": "strategy names or wildcards (see --list)",
    "segmenter": "segmenter back end: auto, sam or a classical one (see --list)",
    "cam_method": "gradcam, gradcam++ or layercam",
    "target_layer": "CAM target layer of the ResNet-18, e.g. layer2[-1] or layer1",
    "mask_selection": "how to pick among the segmenter's candidate masks",
    "refine": "feed the chosen mask's logits back once as mask_input",
    "variants": "also measure the mask-selection and refinement options on the best strategies",
    "classifier_preset": "classifier training recipe (see scripts/train_classifier.py)",
    "classifier_checkpoint": "use this cached classifier checkpoint (.pt with its .json) "
    "instead of the preset's; it must have been trained on --data",
    "supervised": "add rows for trained supervised reference models when their checkpoints exist",
}


@dataclass
class SplitData:
    """The evaluation split in memory plus its CAMs."""

    images: np.ndarray  # uint8 (N, H, W, 3)
    labels: np.ndarray  # int64 (N,)
    masks: np.ndarray  # bool (N, H, W)
    names: tuple[str, ...]
    cams: np.ndarray = field(default_factory=lambda: np.zeros(0))  # float32 (N, H, W)


def cam_methods() -> dict[str, Callable[..., Any]]:
    """CAM method names accepted by ``--cam-method``."""
    from cam import GradCAM, GradCAMPlusPlus, LayerCAM

    return {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "layercam": LayerCAM}


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
    from shapes.backgrounds import load_backgrounds
    from shapes.generate import GenerationConfig, generate_dataset

    print(
        f"no dataset at {config.data}: generating one from backgrounds '{config.backgrounds}'",
        file=sys.stderr,
    )
    bank = load_backgrounds(config.backgrounds, cache_dir=config.data.parent, seed=config.seed)
    return generate_dataset(config.data, bank, GenerationConfig(seed=config.seed))


def present_splits(root: Path) -> tuple[str, ...]:
    """The splits of ``root`` that have an ``images/<split>`` folder, in ``SPLITS`` order."""
    return tuple(s for s in SPLITS if (root / "images" / s).is_dir())


def check_splits(root: Path, config: CompareConfig) -> tuple[str, ...]:
    """Open (header and checksums only) every file of every split the run will use.

    The evaluation split is always used; training the classifier (no
    ``--classifier-checkpoint``) uses train, val and test.

    Returns:
        The splits present in ``root``.

    Raises:
        common.UserError: a needed split is missing (saying what to give instead), or a file
            of a needed split is unreadable (naming it).
    """
    present = present_splits(root)
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
    from prompting import list_strategies

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


def check_segmenter_name(name: str) -> None:
    """Raise :class:`common.UserError` unless ``--segmenter`` names a registered back end."""
    from sam_pipelines import SegmenterError, back_end

    try:
        back_end(name)
    except SegmenterError as exc:
        raise UserError(f"--segmenter {name}: {exc}") from exc


def open_segmenter(config: CompareConfig) -> Any:
    """The ``--segmenter`` back end with the SAM options applied.

    Raises:
        common.UserError: unknown back end, or a SAM checkpoint that cannot be found or loaded.
    """
    from sam_pipelines import SamCheckpointError, SegmenterError, make_segmenter

    try:
        return make_segmenter(
            config.segmenter,
            checkpoint=config.sam_checkpoint,
            model_type=config.sam_model_type,
            device=config.device,
        )
    except (SegmenterError, SamCheckpointError) as exc:
        raise UserError(f"--segmenter {config.segmenter}: {exc}") from exc


def load_split(root: Path, split: str, limit: int | None) -> SplitData:
    """The split's arrays, optionally only its first ``limit`` images."""
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}; expected one of {SPLITS}")
    arrays = SyntheticData(root, split).arrays()  # type: ignore[arg-type]
    if limit is not None:
        arrays = arrays.subset(np.arange(min(limit, len(arrays))))
    return SplitData(arrays.images, arrays.labels, arrays.masks, arrays.names)


def _state_digest(model: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def compute_cams(
    model: torch.nn.Module,
    images: np.ndarray,
    method: str,
    layer: str,
    batch_size: int = 64,
    device: str = "cpu",
    targets: np.ndarray | None = None,
) -> np.ndarray:
    """CAMs of uint8 images (N, H, W, 3) -> float32 (N, H, W) in 0..1 (top class if no targets)."""
    from shapes.transforms import normalize_uint8

    methods = cam_methods()
    if method not in methods:
        raise ValueError(f"unknown CAM method {method!r}; expected one of {sorted(methods)}")
    model = model.to(device).eval()
    out = np.empty(images.shape[:3], dtype=np.float32)
    with methods[method](model, [resolve_layer(model, layer)]) as cam:
        for start in tqdm(range(0, len(images), batch_size), desc=f"{method} CAMs", leave=False):
            x = normalize_uint8(images[start : start + batch_size]).to(device)
            t = None if targets is None else targets[start : start + batch_size].tolist()
            out[start : start + len(x)] = cam(x, t)
    return out


def cached_cams(
    model: torch.nn.Module, data: SplitData, config: CompareConfig, data_key: str
) -> np.ndarray:
    """:func:`compute_cams` with an on-disk cache keyed by data, model weights, method and layer."""
    key = hashlib.sha256(
        f"{data_key}|{_state_digest(model)}|{config.cam_method}|{config.target_layer}".encode()
    ).hexdigest()[:20]
    path = config.cache_dir / "cams" / f"{key}.npy"
    expected = data.images.shape[:3]

    def read(entry: Path) -> np.ndarray:
        cams = np.load(entry, allow_pickle=False)
        if cams.shape != expected or cams.dtype != np.float32:
            raise ValueError(f"holds {cams.dtype} {cams.shape}, expected float32 {expected}")
        return cams

    cached = read_or_discard(path, read, "CAM cache entry")
    if cached is not None:
        return cached
    cams = compute_cams(
        model, data.images, config.cam_method, config.target_layer, config.batch_size, config.device
    )

    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.save(f, cams)

    atomic_write(path, write)
    return cams


CLASSIFIER_PRESETS = ("default", "tiny")


def classifier_config(preset: str) -> Any:
    """The classifier's ``TrainConfig`` for ``--classifier-preset`` (``default`` or ``tiny``)."""
    from classifier import TrainConfig

    if preset == "default":
        return TrainConfig()
    if preset == "tiny":
        return TrainConfig.tiny()
    raise UserError(f"unknown classifier preset {preset!r}; expected one of {CLASSIFIER_PRESETS}")


def load_classifier_checkpoint(path: Path, fingerprint: str | None, device: str = "cpu") -> Any:
    """(model, TrainingInfo) from a classifier checkpoint and its ``.json`` settings sidecar.

    Args:
        path: the ``.pt`` file (``--classifier-checkpoint``).
        fingerprint: the dataset it must have been trained on, or None for no such check (a
            folder with only a test split cannot be compared with the training data).
        device: torch device.

    Raises:
        classifier.CheckpointError: missing, unreadable or of an older format (the checkpoint
            or its sidecar, named), or trained on another dataset than ``fingerprint``.
    """
    from classifier import CheckpointError, TrainConfig, load_checkpoint

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


def strategy_kind(strategy: Any) -> str:
    """``oracle``, ``fg+bg`` or ``fg`` for a registered strategy."""
    if strategy.oracle:
        return "oracle"
    return "fg+bg" if strategy.emits_background else "fg"


def dataset_key(root: Path, split: str, limit: int | None) -> tuple[str, str]:
    """(fingerprint of the dataset, cache key of the evaluated subset)."""
    fingerprint = dataset_fingerprint(root)
    return fingerprint, f"{fingerprint}|{split}|{limit}"


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """(result, seconds) of calling ``fn``."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def per_image_rows(
    strategy: str,
    kind: str,
    segmenter: str,
    data: SplitData,
    coords: np.ndarray,
    labels: np.ndarray,
    pred: np.ndarray | None,
) -> list[dict[str, Any]]:
    """One CSV row per image: its points, their hits and distances, and the IoU."""
    from metrics import iou_per_image, point_distances, points_inside

    inside = points_inside(coords, data.masks)
    dist = point_distances(coords, data.masks)
    ious = iou_per_image(pred, data.masks) if pred is not None else None
    rows = []
    for i in range(len(data.names)):
        row: dict[str, Any] = {
            "image": data.names[i],
            "index": i,
            "class": CLASSES[int(data.labels[i])],
            "strategy": strategy,
            "kind": kind,
            "segmenter": segmenter,
        }
        for prefix, label in (("fg", 1), ("bg", 0)):
            chosen = labels[i] == label
            known = chosen & ~np.isnan(dist[i])
            row[f"{prefix}_points"] = ";".join(f"{x} {y}" for x, y in coords[i][chosen])
            row[f"{prefix}_hit_rate"] = float(inside[i][chosen].mean()) if chosen.any() else ""
            row[f"{prefix}_distance_px"] = float(dist[i][known].mean()) if known.any() else ""
        row["iou"] = float(ious[i]) if ious is not None else ""
        rows.append(row)
    return rows


def _segment_all(
    segmenter: Any,
    data: SplitData,
    coords: np.ndarray,
    labels: np.ndarray,
    mask_selection: str,
    refine: bool,
    desc: str,
) -> np.ndarray:
    """Masks bool (N, H, W) for every image's points (encoder cached per image by the back end)."""
    from sam_pipelines import segment_image

    out = np.empty(data.masks.shape, dtype=bool)
    for i in tqdm(range(len(data.images)), desc=desc, leave=False):
        out[i] = segment_image(
            segmenter,
            data.images[i],
            coords[i],
            labels[i],
            cam=data.cams[i],
            mask_selection=mask_selection,
            refine=refine,
        ).mask
    return out


@dataclass
class ComparisonResult:
    """What :func:`run_comparison` produced."""

    rows: list[dict[str, Any]]
    per_image: list[dict[str, Any]]
    settings: dict[str, Any]
    predictions: Predictions


def run_comparison(config: CompareConfig) -> ComparisonResult:
    """Run the whole comparison (see the module docstring)."""
    from classifier import load_or_train
    from metrics import summarize_run
    from prompting import get_strategy

    torch.manual_seed(config.seed)
    # every check of the user's input first: nothing below is cheap
    names = select_strategies(config.strategies)
    check_segmenter_name(config.segmenter)
    train_config = classifier_config(config.classifier_preset)
    if config.cam_method not in cam_methods():
        raise UserError(
            f"--cam-method must be one of {', '.join(sorted(cam_methods()))}, "
            f"got {config.cam_method!r}"
        )
    ensure_writable_dir(config.out, "--out")
    root = ensure_dataset(config)
    present = check_splits(root, config)
    segmenter = open_segmenter(config)  # last: a SAM back end may load or fetch weights
    seg_name = segmenter.describe()
    fingerprint, data_key = dataset_key(root, config.split, config.limit)
    data = load_split(root, config.split, config.limit)
    if config.classifier_checkpoint is not None:
        full = set(SPLITS) <= set(present)
        if not full:
            print(
                f"{root} has only the {', '.join(present)} split(s): using the classifier "
                f"{config.classifier_checkpoint} without checking what it was trained on",
                file=sys.stderr,
            )
        model, info = load_classifier_checkpoint(
            config.classifier_checkpoint, fingerprint if full else None, config.device
        )
    else:
        model, info = load_or_train(
            root, train_config, cache_dir=config.checkpoints, device=config.device
        )
    data.cams = cached_cams(model, data, config, data_key)

    rows: list[dict[str, Any]] = []
    per_image: list[dict[str, Any]] = []
    predictions = Predictions(np.array(data.names), data.images, data.masks, data.labels, data.cams)
    points: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}

    def evaluate(name: str, base: str, selection: str, refine: bool) -> None:
        strategy = get_strategy(base)
        kind = strategy_kind(strategy)
        coords, labels, t_points = points[base]
        pred, t_seg = timed(
            lambda: _segment_all(
                segmenter, data, coords, labels, selection, refine, f"segment {name}"
            )
        )
        summary = summarize_run(coords, labels, data.masks, pred, data.labels, CLASSES)
        rows.append(
            {
                "strategy": name,
                "kind": kind,
                "segmenter": segmenter.name,
                "n_images": len(data.names),
                **summary,
                "mask_selection": selection,
                "refine": refine,
                "points_ms_per_image": 1000 * t_points / len(data.names),
                "segment_s": t_seg,
                "description": strategy.description,
            }
        )
        per_image.extend(per_image_rows(name, kind, segmenter.name, data, coords, labels, pred))
        predictions.add(name, coords, labels, pred)

    for name in tqdm(names, desc="strategies"):
        strategy = get_strategy(name)
        masks_in = data.masks if strategy.oracle else None
        (coords, labels), t_points = timed(
            lambda s=strategy, m=masks_in: s(data.cams, data.images, m)
        )
        points[name] = (coords, labels, t_points)
        evaluate(name, name, config.mask_selection, config.refine)
    if config.variants:
        for base in best_automatic_strategies(rows):
            for selection, refine in option_variants(config.mask_selection, config.refine):
                label = f"{base} [select={selection}{', refine' if refine else ''}]"
                evaluate(label, base, selection, refine)
    if config.supervised:
        rows += supervised_rows(config.checkpoints, fingerprint, data, predictions, per_image)

    settings = {
        "config": _jsonable(config),
        "dataset": {
            "path": str(root),
            "fingerprint": fingerprint,
            "split": config.split,
            "n_images": len(data.names),
        },
        "classifier": info.to_dict(),
        "segmenter": seg_name,
        "segmenter_kind": getattr(segmenter, "kind", "unknown"),
        "torch": torch.__version__,
    }
    return ComparisonResult(rows, per_image, settings, predictions)


def best_automatic_strategies(rows: list[dict[str, Any]]) -> list[str]:
    """The best ``fg`` and the best ``fg+bg`` strategy by mean IoU (those that exist)."""
    best = []
    for kind in ("fg", "fg+bg"):
        candidates = [r for r in rows if r["kind"] == kind]
        if candidates:
            best.append(max(candidates, key=lambda r: r["miou"])["strategy"])
    return best


def option_variants(selection: str, refine: bool) -> list[tuple[str, bool]]:
    """Every (mask selection, refine) pair other than the configured one."""
    from sam_pipelines import MASK_SELECTIONS

    pairs = [(s, r) for s in MASK_SELECTIONS for r in (False, True)]
    return [p for p in pairs if p != (selection, refine)]


def supervised_rows(
    cache_dir: Path,
    fingerprint: str,
    data: SplitData,
    predictions: Predictions,
    per_image: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """A row per trained supervised reference model whose checkpoint exists (else none)."""
    from metrics import iou_per_image, iou_summary
    from supervised import load_reference_models, predict_masks

    rows = []
    for name, model, info in load_reference_models(cache_dir, data_fingerprint=fingerprint):
        pred = predict_masks(model, data.images)
        ious = iou_per_image(pred, data.masks)
        rows.append(
            {
                "strategy": name,
                "kind": "supervised",
                "segmenter": name,
                "n_images": len(data.names),
                "fg_hit_rate": None,
                "fg_distance_px": None,
                "fg_distance_median_px": None,
                "bg_hit_rate": None,
                "bg_distance_px": None,
                "bg_correct_rate": None,
                **iou_summary(ious, data.labels, CLASSES),
                "description": f"supervised {name} trained on the train split's masks",
                "training": info
                if isinstance(info, dict)
                else getattr(info, "__dict__", str(info)),
            }
        )
        for i, iou in enumerate(ious):
            per_image.append(
                {
                    "image": data.names[i],
                    "index": i,
                    "class": CLASSES[int(data.labels[i])],
                    "strategy": name,
                    "kind": "supervised",
                    "segmenter": name,
                    "fg_points": "",
                    "fg_hit_rate": "",
                    "fg_distance_px": "",
                    "bg_points": "",
                    "bg_hit_rate": "",
                    "bg_distance_px": "",
                    "iou": float(iou),
                }
            )
        predictions.add(name, None, None, pred)
    return rows


def _jsonable(config: CompareConfig) -> dict[str, Any]:
    from evaluation.dataclass_cli import to_jsonable

    return to_jsonable(config)
