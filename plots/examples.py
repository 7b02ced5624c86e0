"""Image galleries: the template's Grad-CAM check, examples of a strategy, its worst failures,
supervised vs label-free, and the dataset example. All read saved arrays only
(``predictions.npz`` and ``per_image.csv``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cam.overlay import heatmap_to_rgb
from cam.visualize import gradcam_figure
from evaluation.predictions import Predictions
from evaluation.results import ComparisonResults
from plots.style import (
    FULL_WIDTH,
    PNG_DPI,
    draw_points,
    first_of_each_class,
    image_axis,
    new_figure,
    pick_indices,
    report_style,
    set_title,
    wrap_text,
)
from shapes import CLASSES

EXAMPLE_COLUMNS = (
    "Image",
    "Heat map",
    "Points (fg green, bg red)",
    "Predicted mask",
    "Ground truth",
)
#: The test indices the assignment's Grad-CAM cell shows.
TEMPLATE_INDICES = (3, 10, 42)


@report_style
def gradcam_check_figure(
    results: ComparisonResults,
    indices: Sequence[int] = TEMPLATE_INDICES,
    per_class: bool = True,
    panel_size: float = 1.45,
) -> Figure:
    """Input, JET heat map, overlay and ground truth for ``indices`` of the evaluated split and
    (``per_class``) the first image of each class, from the CAMs saved in ``predictions.npz``;
    ``panel_size`` is one panel's width in inches (4 a row). Indices past the end of the split
    are skipped; the figure's footer says which.

    Raises:
        ValueError: no index is left to show.
    """
    pred = results.predictions
    kept, skipped = pick_indices(indices, results.n_images)
    rows = [(i, f"#{i} {CLASSES[int(pred.classes[i])]}") for i in kept]
    if per_class:
        rows += [
            (i, f"first {CLASSES[int(pred.classes[i])]}: #{i}")
            for i in first_of_each_class(pred.classes, len(CLASSES))
        ]
    if not rows:
        raise ValueError(
            f"none of the indices {list(indices)} exists in a split of {results.n_images} images"
        )
    idx = [i for i, _ in rows]
    arrays = (pred.images[idx], pred.cams[idx], pred.gt_masks[idx])
    fig = gradcam_figure(
        *arrays, [t for _, t in rows], panel_size=panel_size, heatmap_name=results.cam_name
    )
    fig.set_size_inches(fig.get_size_inches()[0], fig.get_size_inches()[1] + 0.45)
    set_title(
        fig,
        f"{results.cam_name} check: {results.cam_description}, CAM of the predicted class\n"
        f"{results.caption(segmenter=False)}",
    )
    if skipped:
        fig.supxlabel(
            f"skipped index(es) {', '.join(map(str, skipped))}: the split has only "
            f"{results.n_images} images",
            fontsize=7,
        )
    return fig


def _predicted_mask(ax: Axes, pred: Predictions, strategy: str, i: int, iou: float) -> None:
    """``strategy``'s mask of image ``i`` with its points, and its IoU under the panel (not on
    it, where it could hide mask pixels)."""
    _mask_panel(ax, pred.pred[strategy][i])
    draw_points(ax, pred.coords[strategy][i], pred.point_labels[strategy][i], size=14)
    ax.set_xlabel("IoU n/a" if np.isnan(iou) else f"IoU {iou:.2f}", fontsize=6, labelpad=4)


def _strategy_label(row: dict[str, Any]) -> str:
    if row["kind"] == "supervised":
        return f"{row['strategy']} (supervised)"
    return f"{row['strategy']} ({row['kind']}, {row['segmenter']})"


def _mask_panel(ax: Axes, mask: np.ndarray) -> None:
    ax.imshow(mask.astype(bool), cmap="gray", vmin=0, vmax=1, interpolation="nearest")


def _image_grid(pred: Predictions, n_rows: int, n_cols: int, extra: float) -> tuple[Figure, Any]:
    """A full-width figure of ``n_rows`` x ``n_cols`` image panels (no ticks or frame, each
    showing exactly one (height, width) image at its aspect ratio), with ``extra`` inches for
    the titles; returns it and its 2-D array of axes."""
    height, width = pred.images.shape[1:3]
    panel = FULL_WIDTH / n_cols
    fig = new_figure(FULL_WIDTH, n_rows * panel * height / width * 1.2 + extra)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for ax in axes.flat:
        image_axis(ax)
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
    return fig, axes


@report_style
def example_rows(
    results: ComparisonResults,
    rows: Sequence[tuple[str, int, str | None]],
    title: str,
    label_size: float | None = None,
) -> Figure:
    """One row of :data:`EXAMPLE_COLUMNS` per (strategy, image index, row label; None for
    ``"#<index> <class>"``), top to bottom: the image, its JET heat map, the strategy's points
    on the image, its predicted mask (with its IoU and the points) and the ground truth.

    Raises:
        KeyError: a strategy has no saved predictions.
        ValueError: ``rows`` is empty or holds an index outside the split.
    """
    pred = results.predictions
    missing = sorted({s for s, _, _ in rows} - set(pred.pred))
    if missing:
        raise KeyError(f"no saved predictions for {missing}; saved: {pred.strategies}")
    indices = [i for _, i, _ in rows]
    if not rows or not all(0 <= i < results.n_images for i in indices):
        raise ValueError(f"indices {indices} must be non-empty and < {results.n_images}")
    fig, axes = _image_grid(pred, len(rows), len(EXAMPLE_COLUMNS), 0.55)
    heat = heatmap_to_rgb(pred.cams[indices])
    for r, (strategy, i, label) in enumerate(rows):
        row = axes[r]
        coords, labels = pred.coords[strategy][i], pred.point_labels[strategy][i]
        row[0].imshow(pred.images[i], interpolation="nearest")
        row[0].set_ylabel(label or f"#{i} {CLASSES[int(pred.classes[i])]}", fontsize=label_size)
        row[1].imshow(heat[r], interpolation="nearest")
        row[2].imshow(pred.images[i], interpolation="nearest")
        draw_points(row[2], coords, labels)
        if pred.coords[strategy].shape[1] == 0:
            centre = {"transform": row[2].transAxes, "ha": "center", "va": "center"}
            row[2].text(0.5, 0.5, "no points", fontsize=6, color="white", **centre)
        _predicted_mask(row[3], pred, strategy, i, results.ious(strategy)[i])
        _mask_panel(row[4], pred.gt_masks[i])
    for col, name in enumerate(EXAMPLE_COLUMNS):
        axes[0, col].set_title(name)
    set_title(fig, title)
    return fig


def strategy_examples_figure(results: ComparisonResults, strategy: str) -> Figure:
    """:func:`example_rows` of ``strategy`` on the first image of each class, titled with the
    strategy, its kind and segmenter, and the split."""
    row = results.row(strategy)
    indices = first_of_each_class(results.predictions.classes, len(CLASSES))
    score = "" if row.get("miou") is None else f", mIoU {100 * row['miou']:.1f} %"
    title = (
        f"{_strategy_label(row)}: first image of each class\n"
        f"{results.caption(segmenter=False)}{score}"
    )
    return example_rows(results, [(strategy, i, None) for i in indices], title)


def approach_rows_figure(
    results: ComparisonResults, strategies: Sequence[str], index: int
) -> Figure:
    """The report's examples: one row per strategy, all on image ``index``, with the columns of
    :func:`example_rows`; rows are labelled with the strategy and its kind, the title names the
    image, the split and the segmenter.

    Raises:
        KeyError: a strategy has no saved predictions.
        ValueError: ``strategies`` is empty or ``index`` is outside the split.
    """
    if not 0 <= index < results.n_images:
        raise ValueError(f"index {index} is outside the split of {results.n_images} images")
    rows = [(s, index, f"{s}\n({results.row(s)['kind']})") for s in strategies]
    title = (
        f"{results.split} #{index} ({CLASSES[int(results.predictions.classes[index])]}), "
        f"one row per approach\nsegmenter: {results.segmenter}"
    )
    return example_rows(results, rows, title, label_size=7)


def worst_indices(ious: np.ndarray, n: int) -> list[int]:
    """Indices of the ``n`` lowest IoUs (ties by index; NaN IoUs are left out)."""
    order = np.argsort(np.where(np.isnan(ious), np.inf, ious), kind="stable")
    return [int(i) for i in order if not np.isnan(ious[i])][:n]


def worst_failures_figure(results: ComparisonResults, n: int = 6) -> Figure:
    """The ``n`` lowest-IoU images of the best label-free strategy as :func:`example_rows`."""
    row = results.best_automatic()
    indices = worst_indices(results.ious(row["strategy"]), n)
    if not indices:
        raise ValueError(f"{row['strategy']} has no per-image IoU in per_image.csv")
    title = (
        f"Lowest-IoU images of {_strategy_label(row)}, the best label-free strategy\n"
        f"{results.caption(segmenter=False)}"
    )
    return example_rows(results, [(row["strategy"], i, None) for i in indices], title)


@report_style
def supervised_vs_best_figure(results: ComparisonResults) -> Figure:
    """Image, ground truth, the best label-free strategy's mask (with its points) and each
    supervised model's mask, on the first image of each class.

    Raises:
        ValueError: the results have no ``supervised`` row with saved masks.
    """
    supervised = results.with_predictions(("supervised",))
    if not supervised:
        raise ValueError(
            "the results hold no supervised rows with saved masks "
            "(train one with scripts/train_supervised.py, then rerun the comparison)"
        )
    best = results.best_automatic()
    pred = results.predictions
    indices = first_of_each_class(pred.classes, len(CLASSES))
    shown = [best, *supervised]
    n_cols = 2 + len(shown)
    fig, axes = _image_grid(pred, len(indices), n_cols, 0.75)
    ious = {r["strategy"]: results.ious(r["strategy"]) for r in shown}
    for r, i in enumerate(indices):
        axes[r, 0].imshow(pred.images[i], interpolation="nearest")
        axes[r, 0].set_ylabel(f"#{i} {CLASSES[int(pred.classes[i])]}")
        _mask_panel(axes[r, 1], pred.gt_masks[i])
        for c, srow in enumerate(shown, start=2):
            name = srow["strategy"]
            _predicted_mask(axes[r, c], pred, name, i, ious[name][i])
    titles = ["Image", "Ground truth"]
    for s in shown:
        role = "supervised" if s["kind"] == "supervised" else "best label-free"
        miou = "" if s.get("miou") is None else f", mIoU {100 * s['miou']:.1f} %"
        titles.append(wrap_text(f"{s['strategy']}\n({role}{miou})", FULL_WIDTH / n_cols, 6))
    for c, t in enumerate(titles):
        axes[0, c].set_title(t, fontsize=6)
    set_title(
        fig,
        f"Supervised models (trained on masks) vs the best label-free strategy "
        f"(segmenter: {best['segmenter']})\n{results.caption(segmenter=False)}",
    )
    return fig


@report_style
def dataset_example_figure(results: ComparisonResults, index: int = 3) -> Figure:
    """The "Image | Mask" view of one image, in the style of the course dataset's example picture
    (615 x 265 px at 150 dpi, mask in viridis), for a side-by-side with the real dataset.

    Raises:
        ValueError: ``index`` is outside the split.
    """
    pred = results.predictions
    if not 0 <= index < results.n_images:
        raise ValueError(f"index {index} is outside the split of {results.n_images} images")
    fig = new_figure(615 / PNG_DPI, 265 / PNG_DPI)
    axes = fig.subplots(1, 2)
    axes[0].imshow(pred.images[index])
    axes[0].set_title("Image", fontsize=10)
    axes[1].imshow(pred.gt_masks[index].astype(np.uint8))
    axes[1].set_title("Mask", fontsize=10)
    for ax in axes:
        ax.set_axis_off()
    return fig
