"""Where the strategies fail: foreground hit rate and IoU against the shape's contrast (and its
opacity, when the dataset records it), per strategy and per class, from ``per_image.csv``.
Images are binned by quantiles of the column over the whole split, the same bins in every panel.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from matplotlib.figure import Figure

from evaluation.results import ComparisonResults
from plots.charts import select_rows
from plots.style import FULL_WIDTH, new_figure, num, report_style, set_title
from shapes import CLASSES

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
    for :func:`plots.charts.select_rows` (the ``top`` label-free rows, the best oracle, the
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
    axes = fig.subplots(2, len(groups), sharex=True, sharey="row", squeeze=False)
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
        axes[1, col].set_xticks(x, ticks, fontsize=4.5)
        axes[1, col].tick_params(axis="x", rotation=90)
        for ax in axes[:, col]:
            ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("FG hit rate (%)")
    axes[1, 0].set_ylabel("mean IoU")
    axes[1, 0].set_ylim(0, 1.02)
    axes[0, 0].set_ylim(0, 102)
    title = f"x: {axis_label}, bins with equal shares of images (range, images in the bin)"
    legend = {"loc": "outside lower center", "ncols": 3, "frameon": False, "fontsize": 6}
    fig.legend(*axes[1, 0].get_legend_handles_labels(), **legend, title=title, title_fontsize=6)
    set_title(
        fig,
        f"Hit rate and IoU against the shape's {column} (dashed: oracle / supervised)\n"
        f"{results.caption()}",
    )
    return fig
