"""The comparison behind ``scripts/compare_strategies.py``.

Steps: make sure a dataset exists (generate the offline default if not), load or train the
classifier, compute the CAMs of the evaluation split once (cached on disk), run every selected
strategy on them, segment with the chosen back end (the image encoder runs once per image
whatever the number of strategies), score points and masks with :mod:`metrics`, and collect
one summary row per strategy plus one row per image and strategy.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from evaluation.layers import resolve_layer
from evaluation.predictions import Predictions
from shapes import CLASSES, SyntheticData, dataset_fingerprint
from shapes.classes import SPLITS


@dataclass(frozen=True)
class CompareConfig:
    """Settings of a comparison run (every field is a command-line option; saved with results)."""

    data: Path = Path("data/synthetic_shapes")
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


HELP = {
    "data": "dataset folder in the course layout; generated with --backgrounds when missing",
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
    """``config.data`` if it holds a dataset, else generate one there (``config.backgrounds``)."""
    if (config.data / "images").is_dir():
        return config.data
    from shapes.backgrounds import load_backgrounds
    from shapes.generate import GenerationConfig, generate_dataset

    print(
        f"no dataset at {config.data}: generating one from backgrounds '{config.backgrounds}'",
        file=sys.stderr,
    )
    bank = load_backgrounds(config.backgrounds, cache_dir=config.data.parent, seed=config.seed)
    return generate_dataset(config.data, bank, GenerationConfig(seed=config.seed))


def load_split(root: Path, split: str, limit: int | None) -> SplitData:
    """The split's arrays, optionally only its first ``limit`` images."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
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
    if path.is_file():
        cams = np.load(path)
        if cams.shape == data.images.shape[:3]:
            return cams
        print(f"ignoring CAM cache {path}: shape {cams.shape} does not match", file=sys.stderr)
    cams = compute_cams(
        model, data.images, config.cam_method, config.target_layer, config.batch_size, config.device
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, cams)
    return cams


CLASSIFIER_PRESETS = ("default", "tiny")


def classifier_config(preset: str) -> Any:
    """The classifier's ``TrainConfig`` for ``--classifier-preset`` (``default`` or ``tiny``)."""
    from classifier import TrainConfig

    if preset == "default":
        return TrainConfig()
    if preset == "tiny":
        return TrainConfig.tiny()
    raise ValueError(f"unknown classifier preset {preset!r}; expected one of {CLASSIFIER_PRESETS}")


def load_classifier_checkpoint(path: Path, fingerprint: str, device: str = "cpu") -> Any:
    """(model, TrainingInfo) from a classifier checkpoint and its ``.json`` settings sidecar.

    Raises:
        classifier.CheckpointError: unreadable, or trained on another dataset than ``fingerprint``.
    """
    import json

    from classifier import CheckpointError, TrainConfig, load_checkpoint

    sidecar = Path(path).with_suffix(".json")
    if not sidecar.is_file():
        raise CheckpointError(f"{path} has no settings file {sidecar}")
    meta = json.loads(sidecar.read_text())
    config = TrainConfig.from_dict(meta["config"])
    return load_checkpoint(Path(path), fingerprint, meta["recipe"], config, device=device)


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
    from prompting import get_strategy, list_strategies
    from sam_pipelines import resolve_segmenter

    torch.manual_seed(config.seed)
    names = sorted({n for pattern in config.strategies for n in list_strategies(pattern)})
    if not names:
        raise ValueError(
            f"no strategy matches {list(config.strategies)}; known: {', '.join(list_strategies())}"
        )
    segmenter = resolve_segmenter(
        config.segmenter,
        checkpoint=config.sam_checkpoint,
        model_type=config.sam_model_type,
        device=config.device,
    )
    seg_name = segmenter.describe()
    train_config = classifier_config(config.classifier_preset)
    if config.cam_method not in cam_methods():
        raise ValueError(
            f"unknown CAM method {config.cam_method!r}; expected one of {sorted(cam_methods())}"
        )
    root = ensure_dataset(config)
    fingerprint, data_key = dataset_key(root, config.split, config.limit)
    if config.classifier_checkpoint is not None:
        model, info = load_classifier_checkpoint(
            config.classifier_checkpoint, fingerprint, config.device
        )
    else:
        model, info = load_or_train(
            root, train_config, cache_dir=config.checkpoints, device=config.device
        )
    data = load_split(root, config.split, config.limit)
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
