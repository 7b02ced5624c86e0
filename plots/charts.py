"""Charts of the comparison numbers, read from ``metrics.json`` and ``per_image.csv`` (nothing is
recomputed): IoU distributions, per-class mean IoU, point metrics, the classifier's curve, and
where the strategies fail: foreground hit rate and IoU against the shape's contrast (and its
opacity, when the dataset records it), per strategy and per class. For those, images are binned
by quantiles of the column over the whole split, the same bins in every panel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from evaluation.results import ComparisonResults
from evaluation.tables import AUTOMATIC_KINDS
from plots.style import (
    FULL_WIDTH,
    KIND_COLOURS,
    KIND_NAMES,
    fitted_legend,
    new_figure,
    num,
    report_style,
    set_title,
)
from shapes import CLASSES

#: The public solution's numbers (real course data, SAM ViT-B, ImageNet-pretrained ResNet-18).
PUBLIC_SOLUTION = {"miou": 0.726, "fg_hit_rate": 0.684, "fg_distance_px": 5.99}
PUBLIC_LABEL = "public solution (real data)"
HATCHES = {"oracle": "///", "supervised": "..."}


def _kind_legend(kinds: Sequence[str]) -> list[Patch]:
    return [
        Patch(facecolor=KIND_COLOURS[k], label=KIND_NAMES[k]) for k in KIND_COLOURS if k in kinds
    ]


def bounded_density(values: np.ndarray, bins: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """A density of values in 0..1 that stays inside 0..1 (a lightly smoothed histogram).

    Returns:
        (coords, density) float arrays (bins + 2,): bin centres plus both ends; the density
        peaks at 1.
    """
    values = np.asarray(values, dtype=np.float64)
    counts, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    padded = np.pad(counts.astype(float), 1, mode="edge")
    smooth = np.convolve(padded, [0.25, 0.5, 0.25], mode="valid")
    centres = (edges[:-1] + edges[1:]) / 2
    coords = np.concatenate([[0.0], centres, [1.0]])
    density = np.concatenate([[smooth[0]], smooth, [smooth[-1]]])
    peak = density.max()
    return coords, density / peak if peak > 0 else density


@report_style
def iou_distribution_figure(
    results: ComparisonResults,
    reference: Mapping[str, float] | None = PUBLIC_SOLUTION,
) -> Figure:
    """Per-image IoU of every row as a horizontal violin bounded to 0..1 (mean as a black
    diamond, median as a white bar), with the mean and the shares of IoU < 0.1 and >= 0.9 on
    the right: a bimodal (hit-or-miss) pipeline puts its mass at both ends. ``reference``'s
    ``"miou"`` (the public solution) is drawn as a dashed line."""
    rows = [r for r in results.rows if r["strategy"] in {p["strategy"] for p in results.per_image}]
    data = [(r, results.ious(r["strategy"])) for r in rows]
    data = [(r, v[~np.isnan(v)]) for r, v in data if (~np.isnan(v)).any()]
    if not data:
        raise ValueError("per_image.csv holds no IoU values")
    fig = new_figure(FULL_WIDTH, 0.32 * len(data) + 1.3)
    ax = fig.subplots()
    pos = np.arange(len(data))[::-1]
    stats = [
        dict(zip(("coords", "vals"), bounded_density(v), strict=True))
        | {"mean": v.mean(), "median": np.median(v), "min": v.min(), "max": v.max()}
        for _, v in data
    ]
    hidden = {"showmeans": False, "showextrema": False, "showmedians": False}
    parts = ax.violin(stats, positions=pos, orientation="horizontal", widths=0.85, **hidden)
    for body, (r, _) in zip(parts["bodies"], data, strict=True):
        colour = KIND_COLOURS.get(r["kind"], "#333333")
        body.set(facecolor=colour, edgecolor="black", linewidth=0.5, alpha=0.8)
    means, medians = [s["mean"] for s in stats], [s["median"] for s in stats]
    ax.scatter(means, pos, marker="D", s=14, c="black", zorder=3, label="mean IoU")
    ringed = {"edgecolors": "black", "linewidths": 0.6, "zorder": 3}
    ax.scatter(medians, pos, marker="o", s=12, c="white", label="median IoU", **ringed)
    if reference and "miou" in reference:
        label = f"{PUBLIC_LABEL}: mIoU {100 * reference['miou']:.1f} %"
        ax.axvline(reference["miou"], color="black", ls="--", lw=0.8, label=label)
    ax.set_yticks(pos, [r["strategy"] for r, _ in data])
    ax.set_ylim(-0.6, len(data) - 0.4)
    ax.set_xlim(0, 1)
    ax.set_xlabel("IoU per image")
    ax.grid(axis="x", alpha=0.3)
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    shares = [
        f"{100 * v.mean():5.1f} {100 * (v < 0.1).mean():5.0f} {100 * (v >= 0.9).mean():5.0f}"
        for _, v in data
    ]
    right.set_yticks(pos, shares, family="monospace")
    right.set_title(
        " mean  <0.1  ≥0.9\n  IoU share (%)", loc="right", family="monospace", fontsize=6, x=1.17
    )
    handles = _kind_legend([r["kind"] for r, _ in data]) + ax.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    set_title(
        fig, f"IoU per image and strategy (violin: distribution in 0..1)\n{results.caption()}"
    )
    return fig


def select_rows(results: ComparisonResults, top: int = 4) -> list[dict[str, Any]]:
    """The ``top`` label-free rows by mIoU, the best oracle row and every supervised row."""
    scored = [r for r in results.rows if r.get("miou") is not None]
    auto = sorted((r for r in scored if r["kind"] in AUTOMATIC_KINDS), key=lambda r: -r["miou"])
    oracle = sorted((r for r in scored if r["kind"] == "oracle"), key=lambda r: -r["miou"])
    return auto[:top] + oracle[:1] + [r for r in scored if r["kind"] == "supervised"]


@report_style
def per_class_miou_figure(results: ComparisonResults, top: int = 4) -> Figure:
    """Grouped bars of mean IoU per class (and over all classes) for :func:`select_rows`:
    hatched bars are oracle (///) and supervised (...) references."""
    rows = select_rows(results, top)
    if not rows:
        raise ValueError("no row has a mean IoU")
    groups = [*CLASSES, "all"]
    fig = new_figure(FULL_WIDTH, 2.9)
    ax = fig.subplots()
    n = len(rows)
    bar = 0.8 / n
    colours = [f"C{i % 10}" for i in range(n)]
    for j, r in enumerate(rows):
        per_class = r.get("per_class_miou") or {}
        values = [num(per_class.get(c)) for c in CLASSES] + [num(r.get("miou"))]
        x = np.arange(len(groups)) - 0.4 + bar * (j + 0.5)
        style = {"hatch": HATCHES.get(r["kind"]), "edgecolor": "black", "linewidth": 0.4}
        label = f"{r['strategy']} ({r['kind']})"
        ax.bar(x, 100 * np.asarray(values), width=bar, color=colours[j], label=label, **style)
    ax.set_xticks(np.arange(len(groups)), groups)
    ax.axvline(len(CLASSES) - 0.5, color="black", lw=0.6)
    ax.set_ylabel("mean IoU (%)")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    fitted_legend(fig, min(3, n), loc="outside lower center", frameon=False)
    kinds = {r["kind"] for r in rows}
    parts = [f"top {top} label-free strategies"]
    references = (("oracle", "best oracle"), ("supervised", "supervised"))
    parts += [name for kind, name in references if kind in kinds]
    set_title(fig, f"Mean IoU per class: {', '.join(parts)}\n{results.caption()}")
    return fig


@report_style
def points_metrics_figure(
    results: ComparisonResults,
    reference: Mapping[str, float] | None = PUBLIC_SOLUTION,
) -> Figure:
    """Side by side per strategy with points: foreground hit rate (higher is better),
    background hit rate (share of background points inside the mask; lower is better, empty
    without background points) and mean foreground distance to the mask centre (px; lower is
    better)."""
    rows = [
        r for r in results.rows if r["kind"] != "supervised" and r.get("fg_hit_rate") is not None
    ]
    if not rows:
        raise ValueError("no row has point metrics")
    panels = (
        ("fg_hit_rate", "FG hit rate (%) ↑", 100.0),
        ("bg_hit_rate", "BG hit rate (%) ↓", 100.0),
        ("fg_distance_px", "FG dist. to centre (px) ↓", 1.0),
    )
    fig = new_figure(FULL_WIDTH, 0.24 * len(rows) + 1.3)
    axes = fig.subplots(1, 3, sharey=True)
    pos = np.arange(len(rows))[::-1]
    colours = [KIND_COLOURS.get(r["kind"], "#333333") for r in rows]
    for ax, (key, label, scale) in zip(axes, panels, strict=True):
        values = np.array([num(r.get(key)) for r in rows]) * scale
        ax.barh(pos, np.nan_to_num(values), color=colours, height=0.7)
        top = np.nanmax(values) if np.isfinite(values).any() else 1.0
        for p, v in zip(pos, values, strict=True):
            text = "none" if np.isnan(v) else (f"{v:.1f}" if scale == 100.0 else f"{v:.2f}")
            ax.text((0 if np.isnan(v) else v) + 0.01 * top, p, text, va="center", fontsize=6)
        ax.set_xlim(0, (100 if scale == 100.0 else top) * 1.3)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
        if reference and key in reference:
            ax.axvline(reference[key] * scale, color="black", ls="--", lw=0.8, label=PUBLIC_LABEL)
    axes[0].set_yticks(pos, [r["strategy"] for r in rows])
    axes[0].set_ylim(-0.6, len(rows) - 0.4)
    handles = _kind_legend([r["kind"] for r in rows])
    if reference:
        handles += axes[0].get_legend_handles_labels()[0][:1]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    set_title(
        fig,
        f"Point prompts against the ground truth (independent of the segmenter)\n"
        f"{results.caption(segmenter=False)}",
    )
    return fig


def classifier_curve(results: ComparisonResults) -> np.ndarray | None:
    """The run's classifier learning curve as float (K, 5) rows (step, loss, train accuracy,
    val accuracy, val CAM argmax hit rate; NaN where an older checkpoint has no CAM column)
    from ``metrics.json``'s ``settings.classifier.curve``; None when absent (a classifier
    loaded from a bare state dict has no curve)."""
    curve = (results.settings.get("classifier") or {}).get("curve") or []
    if not curve:
        return None
    rows = np.full((len(curve), 5), np.nan)
    for i, point in enumerate(curve):
        rows[i, : len(point)] = point
    return rows


@report_style
def classifier_curve_figure(results: ComparisonResults) -> Figure:
    """The classifier's learning curve: training loss (left) and train / validation accuracy
    (right) against the optimiser step, with the test accuracy as a dashed line and the recipe
    in the title. Raises ``ValueError`` when the results hold no curve."""
    curve = classifier_curve(results)
    if curve is None:
        raise ValueError("metrics.json has no classifier learning curve (settings.classifier)")
    info = results.settings["classifier"]
    config = info.get("config") or {}
    fig = new_figure(FULL_WIDTH, 2.3)
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(curve[:, 0], curve[:, 1], color="C3", marker="o", ms=2)
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("training loss (cross-entropy)")
    loss_ax.grid(alpha=0.3)
    acc_ax.plot(curve[:, 0], 100 * curve[:, 2], marker="o", ms=2, label="train batches")
    acc_ax.plot(curve[:, 0], 100 * curve[:, 3], marker="o", ms=2, label="validation split")
    if not np.isnan(curve[:, 4]).all():
        acc_ax.plot(curve[:, 0], 100 * curve[:, 4], marker="o", ms=2, label="val CAM argmax hit")
    test = info.get("test_accuracy")
    if test is not None:
        acc_ax.axhline(100 * test, color="black", ls="--", lw=0.8, label=f"test {100 * test:.1f} %")
    easy, anneal = config.get("easy_steps"), config.get("anneal_steps")
    if easy is not None and anneal is not None:
        for ax in (loss_ax, acc_ax):
            ax.axvspan(0, easy + anneal, color="0.9", zorder=0)
        acc_ax.text(4, 3, "curriculum", fontsize=6, color="0.4")
    acc_ax.set_xlabel("step")
    acc_ax.set_ylabel("accuracy, CAM hit rate (%)")
    acc_ax.set_ylim(0, 100)
    acc_ax.grid(alpha=0.3)
    acc_ax.legend(loc="lower right", frameon=False)
    weights = "ImageNet fine-tune" if info.get("imagenet_weights") else "from scratch"
    minutes = float(info.get("train_seconds", float("nan"))) / 60
    set_title(
        fig,
        f"ResNet-18 classifier, {info.get('recipe', '?')} ({weights}), "
        f"{minutes:.1f} min of training; dataset {results.settings.get('dataset', {}).get('path')}",
    )
    return fig


#: The per-image columns these figures bin by: (axis label, format of a bin edge).
DIAGNOSTIC_COLUMNS = {
    "contrast": ("shape contrast (RGB distance to its 2-px ring)", "{:.0f}"),
    "opacity": ("shape opacity (1 = opaque)", "{:.2f}"),
}


def per_image_values(
    results: ComparisonResults, column: str, strategy: str | None = None
) -> np.ndarray:
    """float64 (N,) of ``column`` by image index, from the rows of ``strategy`` (default: any
    row; ``contrast`` and ``opacity`` are the same for every strategy); NaN where the rows
    have no value (or the column, in results written before it existed)."""
    out = np.full(results.n_images, np.nan)
    for r in results.per_image:
        if strategy is None or r["strategy"] == strategy:
            out[int(r["index"])] = num(r.get(column))
    return out


def has_values(results: ComparisonResults, column: str) -> bool:
    """Whether any image has a value in ``column`` (e.g. ``opacity`` on generated data only)."""
    return any(r.get(column) not in (None, "") for r in results.per_image)


def quantile_bins(values: np.ndarray, n_bins: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Bins holding about equal shares of the finite ``values`` (float (N,)).

    Returns:
        (edges float (B + 1,), index int64 (N,)): bin ``b`` is ``edges[b] <= v <= edges[b+1]``
        (a value on an inner edge goes to the upper bin); NaN values get index -1. Tied
        quantiles merge bins, so B <= ``n_bins`` (B = 1 when all values are equal).

    Raises:
        ValueError: ``n_bins`` < 1 or no finite value.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        raise ValueError("no finite value to bin")
    edges = np.unique(np.quantile(values[finite], np.linspace(0.0, 1.0, n_bins + 1)))
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0]])
    index = np.full(len(values), -1, dtype=np.int64)
    index[finite] = np.searchsorted(edges[1:-1], values[finite], side="right")
    return edges, index


def binned_means(values: np.ndarray, index: np.ndarray, n_bins: int) -> np.ndarray:
    """float64 (n_bins,): mean of the finite ``values`` (N,) in each bin of ``index`` (N,),
    NaN for a bin without any."""
    out = np.full(n_bins, np.nan)
    for b in range(n_bins):
        chosen = (index == b) & np.isfinite(values)
        if chosen.any():
            out[b] = values[chosen].mean()
    return out


def bin_labels(edges: np.ndarray, fmt: str) -> list[str]:
    """``["12-40", "40-65", ...]``: each bin's range."""
    return [f"{fmt.format(lo)}-{fmt.format(hi)}" for lo, hi in pairwise(edges)]


@report_style
def diagnostic_figure(
    results: ComparisonResults, column: str = "contrast", top: int = 4, n_bins: int = 5
) -> Figure:
    """Foreground hit rate (top row) and mean IoU (bottom row) per quantile bin of ``column``
    for :func:`select_rows` (the ``top`` label-free rows, the best oracle, the
    supervised models: IoU only), over all images and per class.

    Raises:
        ValueError: unknown ``column``, or no image has a value in it.
    """
    if column not in DIAGNOSTIC_COLUMNS:
        raise ValueError(f"unknown column {column!r}; expected one of {list(DIAGNOSTIC_COLUMNS)}")
    axis_label, fmt = DIAGNOSTIC_COLUMNS[column]
    values = per_image_values(results, column)
    if not np.isfinite(values).any():
        raise ValueError(f"per_image.csv has no {column} values")
    edges, index = quantile_bins(values, n_bins)
    n = len(edges) - 1
    classes = np.full(results.n_images, -1)
    for r in results.per_image:
        classes[int(r["index"])] = CLASSES.index(r["class"])
    measured = {r["strategy"] for r in results.per_image}
    shown = [r for r in select_rows(results, top) if r["strategy"] in measured]
    groups = [("all classes", np.ones(results.n_images, bool))]
    groups += [(c, classes == k) for k, c in enumerate(CLASSES)]
    fig = new_figure(FULL_WIDTH, 3.9)
    # not sharex: each column's tick labels count that column's own images per bin
    axes = fig.subplots(2, len(groups), sharey="row", squeeze=False)
    x = np.arange(n)
    for j, row in enumerate(shown):
        name = row["strategy"]
        hits = per_image_values(results, "fg_hit_rate", name)
        ious = per_image_values(results, "iou", name)
        style = dict(color=f"C{j % 10}", marker="o", ms=2.5, lw=1.0, label=name)
        if row["kind"] in ("oracle", "supervised"):
            style["ls"] = "--"
        for col, (_, chosen) in enumerate(groups):
            sub = np.where(chosen, index, -1)
            axes[0, col].plot(x, 100 * binned_means(hits, sub, n), **style)
            axes[1, col].plot(x, binned_means(ious, sub, n), **style)
    labels = bin_labels(edges, fmt)
    for col, (title, chosen) in enumerate(groups):
        counts = np.bincount(index[chosen & (index >= 0)], minlength=n)
        axes[0, col].set_title(f"{title}\n(n = {int(chosen.sum())})", fontsize=6)
        ticks = [f"{lab} ({c})" for lab, c in zip(labels, counts, strict=True)]
        axes[0, col].set_xticks(x, [""] * n)
        axes[1, col].set_xticks(x, ticks, fontsize=4.5)
        axes[1, col].tick_params(axis="x", rotation=90)
        for ax in axes[:, col]:
            ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("FG hit rate (%)")
    axes[1, 0].set_ylabel("mean IoU")
    axes[1, 0].set_ylim(0, 1.02)
    axes[0, 0].set_ylim(0, 102)
    title = f"x: {axis_label}, bins with equal shares of images (range, images in the bin)"
    handles, names = axes[1, 0].get_legend_handles_labels()
    legend = {"loc": "outside lower center", "frameon": False, "fontsize": 6, "title": title}
    fitted_legend(fig, 3, handles=handles, labels=names, **legend, title_fontsize=6)
    set_title(
        fig,
        f"Hit rate and IoU against the shape's {column} (dashed: oracle / supervised)\n"
        f"{results.caption()}",
    )
    return fig


def classified_right(results: ComparisonResults) -> np.ndarray:
    """bool (N,) by image index: whether the classifier's ``predicted`` class (per_image.csv)
    is the true one.

    Raises:
        ValueError: some image has no ``predicted`` value (results written before the column).
    """
    right = np.full(results.n_images, -1, dtype=np.int8)
    for r in results.per_image:
        if r.get("predicted") in (None, ""):
            raise ValueError("per_image.csv has no predicted classes (rerun the comparison)")
        right[int(r["index"])] = r["predicted"] == r["class"]
    if (right < 0).any():
        raise ValueError("per_image.csv lacks some images' predicted classes")
    return right.astype(bool)


@report_style
def classification_figure(results: ComparisonResults, top: int = 4) -> Figure:
    """Foreground hit rate (left) and mean IoU (right) of :func:`select_rows`' rows on the
    images whose class the classifier gets right against those it gets wrong (each heat map
    explains the predicted class), with the number of images in each group.

    Raises:
        ValueError: per_image.csv has no predicted classes.
    """
    right = classified_right(results)
    measured = {r["strategy"] for r in results.per_image}
    rows = [r for r in select_rows(results, top) if r["strategy"] in measured]
    groups = [(f"class right (n = {int(right.sum())})", right)]
    groups += [(f"class wrong (n = {int((~right).sum())})", ~right)]
    fig = new_figure(FULL_WIDTH, 0.28 * len(rows) + 1.4)
    hit_ax, iou_ax = fig.subplots(1, 2, sharey=True)
    pos = np.arange(len(rows))[::-1]
    height = 0.8 / len(groups)
    for g, (label, chosen) in enumerate(groups):
        hits, ious = [], []
        for r in rows:
            h = per_image_values(results, "fg_hit_rate", r["strategy"])[chosen]
            v = per_image_values(results, "iou", r["strategy"])[chosen]
            hits.append(100 * np.nanmean(h) if np.isfinite(h).any() else np.nan)
            ious.append(np.nanmean(v) if np.isfinite(v).any() else np.nan)
        y = pos + 0.4 - height * (g + 0.5)
        style = {"height": height, "color": ("#2ca02c", "#d62728")[g], "label": label}
        hit_ax.barh(y, hits, **style)
        iou_ax.barh(y, ious, **style)
    hit_ax.set_yticks(pos, [r["strategy"] for r in rows])
    hit_ax.set_xlim(0, 100)
    hit_ax.set_xlabel("FG hit rate (%)")
    iou_ax.set_xlim(0, 1)
    iou_ax.set_xlabel("mean IoU")
    for ax in (hit_ax, iou_ax):
        ax.grid(axis="x", alpha=0.3)
    fig.legend(*hit_ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    accuracy = 100 * right.mean()
    set_title(
        fig,
        f"Points and masks where the classifier is right or wrong (accuracy {accuracy:.1f} %)\n"
        f"{results.caption()}",
    )
    return fig
