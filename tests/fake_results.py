"""A tiny, fake comparison result set (``metrics.json``, ``per_image.csv``, ``predictions.npz``)
for tests of the figures and of anything else that reads ``compare_strategies.py``'s output.

No classifier and no segmenter run: CAMs are Gaussian blobs near (or, for a share of "missed"
images, away from) each shape, points are read off them, and a fake segmenter returns a slightly
eroded or dilated ground truth when a foreground point hits the shape and a small disc around the
point otherwise, so the IoU comes out bimodal as with the real pipeline. The files are written
with the comparison's own row builder and writer (:func:`evaluation.compare.add_result`,
:func:`evaluation.results.save_results`), so they follow the real format.

Example::

    from fake_results import write_fake_results
    folder = write_fake_results(tmp_path / "results", n_images=12)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from evaluation.compare import add_result
from evaluation.predictions import Predictions
from evaluation.results import ComparisonResults, save_results
from shapes import CLASSES, IMAGE_SIZE, SyntheticData
from shapes.generate import Rendered, render
from shapes.params import read_opacity

FAKE_SEGMENTER = "fake-segmenter"


@dataclass(frozen=True)
class FakeStrategy:
    """A fake strategy: its kind, how it places points on a CAM (None: a supervised model) and
    its row's ``family`` (None: none saved, as in results from before rows carried it)."""

    name: str
    kind: str
    description: str
    points: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None
    family: str | None = None


def argmax_points(cams: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, _, w = cams.shape
    flat = cams.reshape(n, -1).argmax(axis=1)
    coords = np.stack([flat % w, flat // w], axis=1)[:, None, :]
    return coords.astype(np.int64), np.ones((n, 1), np.int64)


def argmax_corner_points(cams: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fg, _ = argmax_points(cams, masks)
    _, h, w = cams.shape
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]])
    far = np.argmax(np.linalg.norm(fg[:, 0, None, :] - corners[None], axis=2), axis=1)
    coords = np.concatenate([fg, corners[far][:, None, :]], axis=1)
    labels = np.tile(np.array([1, 0], np.int64), (len(cams), 1))
    return coords.astype(np.int64), labels


def inner_points(cams: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, _, w = masks.shape
    coords = np.zeros((n, 1, 2), np.int64)
    for i in range(n):
        inside = ndimage.distance_transform_edt(masks[i])
        flat = int(inside.argmax())
        coords[i, 0] = (flat % w, flat // w)
    return coords, np.ones((n, 1), np.int64)


FAKE_STRATEGIES = (
    FakeStrategy("cam_argmax", "fg", "fake: one fg point at the CAM maximum", argmax_points),
    FakeStrategy(
        "cam_argmax_corner_bg",
        "fg+bg",
        "fake: CAM maximum plus the farthest corner as bg",
        argmax_corner_points,
    ),
    FakeStrategy("oracle_inner_point", "oracle", "fake: the mask's innermost pixel", inner_points),
    FakeStrategy("supervised_fpn", "supervised", "fake supervised model: the truth, blurred", None),
)


def _tiny_images(n: int, rng: np.random.Generator) -> Rendered:
    """n rendered samples on smooth random backgrounds, labels cycling through the classes."""
    pool = rng.integers(0, 256, size=(8, 4, 4, 3)).astype(np.uint8)  # stretched: smooth
    labels = np.arange(n) % len(CLASSES)
    return render(pool, n, rng, hw=IMAGE_SIZE, labels=labels)


def _fake_cams(masks: np.ndarray, miss: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n, h, w = masks.shape
    yy, xx = np.mgrid[0:h, 0:w]
    cams = np.empty((n, h, w), np.float32)
    for i in range(n):
        ys, xs = np.nonzero(masks[i])
        if miss[i] or ys.size == 0:
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        else:
            cy, cx = ys.mean() + rng.normal(0, 1.5), xs.mean() + rng.normal(0, 1.5)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 6.0**2))
        cams[i] = blob / blob.max()
    return cams


def _fake_segment(
    coords: np.ndarray, labels: np.ndarray, masks: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    n, h, w = masks.shape
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros_like(masks)
    for i in range(n):
        fg = coords[i][labels[i] == 1]
        hit = any(masks[i, y, x] for x, y in fg)
        if hit:
            op = ndimage.binary_dilation if rng.random() < 0.5 else ndimage.binary_erosion
            out[i] = op(masks[i]) if masks[i].sum() > 30 else masks[i]
        elif len(fg):
            x, y = fg[0]
            out[i] = (yy - y) ** 2 + (xx - x) ** 2 <= 25
    return out


def write_fake_results(
    out: Path | str,
    n_images: int = 12,
    seed: int = 0,
    data_root: Path | str | None = None,
    split: str = "test",
    miss_rate: float = 0.25,
    strategies: tuple[FakeStrategy, ...] = FAKE_STRATEGIES,
    with_opacity: bool = True,
    with_predicted: bool = True,
) -> Path:
    """Write ``metrics.json``, ``metrics.csv``, ``per_image.csv``, ``metrics.tex`` and
    ``predictions.npz`` of a fake comparison into ``out``.

    Args:
        out: results folder (created).
        n_images: images evaluated (the first ``n_images`` of ``split`` when ``data_root`` is
            given, else rendered in memory on random backgrounds).
        seed: seeds every random choice.
        data_root: optional dataset in the course layout to take the images from.
        split: the split named in the settings (and read from ``data_root``).
        miss_rate: share of images whose fake CAM peaks away from the shape.
        strategies: the fake strategies to "run".
        with_opacity: record each shape's opacity (as for a generated dataset) for images
            rendered in memory; with ``data_root`` the dataset's ``shape_params.csv`` decides.
        with_predicted: record the classifier's predicted class: wrong (the next class)
            exactly on the images whose fake CAM misses the shape.

    Returns:
        ``out`` as a Path.
    """
    out = Path(out)
    rng = np.random.default_rng(seed)
    if data_root is not None:
        arrays = SyntheticData(Path(data_root), split).arrays()  # type: ignore[arg-type]
        arrays = arrays.subset(np.arange(min(n_images, len(arrays))))
        images, classes, masks = arrays.images, arrays.labels, arrays.masks
        names = tuple(arrays.names)
        opacity = read_opacity(data_root, split, names)
    else:
        rendered = _tiny_images(n_images, rng)
        images, classes, masks = rendered.images, rendered.labels, rendered.masks
        opacity = rendered.alphas if with_opacity else None
        names = tuple(f"{i:05d}" for i in range(n_images))
    n = len(images)
    missed = rng.random(n) < miss_rate
    cams = _fake_cams(masks, missed, rng)
    predictions = Predictions(np.array(names), images, masks, classes, cams, opacity=opacity)
    if with_predicted:
        predictions.predicted = np.where(missed, (classes + 1) % len(CLASSES), classes)
    results = ComparisonResults({}, predictions=predictions)
    for strategy in strategies:
        if strategy.points is None:
            coords, labels = np.zeros((n, 0, 2), np.int64), np.zeros((n, 0), np.int64)
            pred = np.stack([ndimage.binary_opening(m) for m in masks])
            segmenter = strategy.name
        else:
            coords, labels = strategy.points(cams, masks)
            pred = _fake_segment(coords, labels, masks, rng)
            segmenter = FAKE_SEGMENTER
        add_result(
            results,
            strategy.name,
            strategy.kind,
            segmenter,
            coords,
            labels,
            pred,
            description=strategy.description,
            **({} if strategy.family is None else {"family": strategy.family}),
        )
    results.settings = {
        "config": {
            "split": split,
            "cam_method": "gradcam",
            "target_layer": "layer2[-1]",
            "classifier_preset": "default",
            "seed": seed,
        },
        "dataset": {
            "path": str(data_root) if data_root is not None else "<fake in memory>",
            "fingerprint": "fake",
            "split": split,
            "n_images": n,
        },
        "classifier": {
            "fake": True,
            "recipe": "fake",
            "imagenet_weights": False,
            "test_accuracy": 0.9,
            "train_seconds": 60.0,
            "config": {"easy_steps": 20, "anneal_steps": 40},
            # made-up (step, loss, train acc, val acc) points, for the learning-curve figure
            "curve": [
                [step, 1.6 * 0.8 ** (step / 20), 1 - 0.8 * 0.8 ** (step / 20), 0.2 + step / 150]
                for step in range(20, 120, 20)
            ],
        },
        "segmenter": FAKE_SEGMENTER,
    }
    save_results(out, results, f"Fake results ({n} images).")
    return out
