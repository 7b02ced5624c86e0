"""Shared look of the report figures: sizes, colours, saving, and small panel helpers.

Figures are pyplot-free ``matplotlib.figure.Figure`` objects drawn by Agg when saved, so
importing this package leaves the matplotlib backend (and a notebook's inline display) alone.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend

#: Width of a full-width figure in inches (A4 text width with 2.5 cm margins is ~6.3 in).
FULL_WIDTH = 6.5
PNG_DPI = 150
#: Colour and legend name of each row kind in the charts.
KIND_COLOURS = {"fg": "#1f77b4", "fg+bg": "#ff7f0e", "oracle": "#7f7f7f", "supervised": "#9467bd"}
KIND_NAMES = {
    "fg": "fg points",
    "fg+bg": "fg + bg points",
    "oracle": "oracle (reads the mask)",
    "supervised": "supervised (trained on masks)",
}
FG_COLOUR = "#00e000"
BG_COLOUR = "#ff2020"
#: Matplotlib settings of every report figure (applied only while a figure is built).
REPORT_RC = {"font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "figure.titlesize": 9}
REPORT_RC |= {"xtick.labelsize": 7, "ytick.labelsize": 7, "legend.fontsize": 7, "pdf.fonttype": 42}

#: Decorator: build the figure under :data:`REPORT_RC` (no global matplotlib state changes).
report_style = matplotlib.rc_context(REPORT_RC)


def num(value: Any) -> float:
    """A table cell as a float: NaN for None or "" (no value)."""
    return float("nan") if value is None or value == "" else float(value)


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free Figure of ``width`` x ``height`` inches with constrained layout."""
    return Figure(figsize=(width, height), layout="constrained")


def fitted_legend(fig: Figure, max_cols: int, **kwargs: Any) -> Legend:
    """``fig.legend(**kwargs)`` with the most columns, up to ``max_cols``, whose width fits
    the figure's (one column when none does), so long labels are never cut at the edges."""
    for ncols in range(max(max_cols, 1), 0, -1):
        legend = fig.legend(ncols=ncols, **kwargs)
        if ncols == 1 or legend.get_window_extent().width <= fig.bbox.width:
            return legend
        legend.remove()
    raise AssertionError("unreachable: the loop returns at one column")


def save_figure(fig: Figure, out_dir: Path | str, name: str) -> list[Path]:
    """Write ``fig`` as ``<name>.png`` (150 dpi) and vector ``<name>.pdf`` into ``out_dir``;
    returns the two paths. The size is first snapped to whole pixels at 150 dpi and the canvas
    is not cropped, so the PNG is exactly ``figsize * 150`` pixels."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    width, height = fig.get_size_inches()
    fig.set_size_inches(round(width * PNG_DPI) / PNG_DPI, round(height * PNG_DPI) / PNG_DPI)
    fig.savefig(paths[0], dpi=PNG_DPI)
    fig.savefig(paths[1])
    return paths


def wrap_text(text: str, width_in: float, fontsize: float) -> str:
    """Wrap each line of ``text`` to fit ``width_in`` inches at ``fontsize`` points (an average
    character is taken as 0.55 em wide); underscores count as break points."""
    chars = max(8, int(width_in * 72 / (0.55 * fontsize)))
    out = []
    for line in text.split("\n"):
        if len(line) <= chars:
            out.append(line)
            continue
        spaced = line.replace("_", "_\u200b")  # zero-width space: a break point after "_"
        wrapped = textwrap.wrap(spaced, chars, break_long_words=True, break_on_hyphens=False)
        out += [w.replace("\u200b", "") for w in wrapped]
    return "\n".join(out)


def set_title(fig: Figure, text: str) -> None:
    """``fig.suptitle`` wrapped to the figure's width at the report's title size; the figure
    grows by one line height for every line past the second."""
    size = REPORT_RC["figure.titlesize"]
    width, height = fig.get_size_inches()
    wrapped = wrap_text(text, width * 0.95, size)
    extra = max(0, wrapped.count("\n") - 1)
    if extra:
        fig.set_size_inches(width, height + extra * 1.25 * size / 72)
    fig.suptitle(wrapped, fontsize=size)


def image_axis(ax: Axes) -> None:
    """Hide ticks and the frame of an image panel (keeps the y label usable)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def draw_points(ax: Axes, coords: np.ndarray, labels: np.ndarray, size: float = 28.0) -> None:
    """Foreground points (label 1) as green discs, background points (label 0) as red crosses,
    black-edged so they stay visible on a 48 x 64 image; coords int (K, 2) as (X, Y) pixels,
    labels int (K,)."""
    coords = np.asarray(coords).reshape(-1, 2)
    labels = np.asarray(labels).reshape(-1)
    if len(coords) != len(labels):
        raise ValueError(f"{len(coords)} points but {len(labels)} labels")
    # (label, marker, colour, size, edge width); not clipped, so corner points stay whole
    styles = ((1, "o", FG_COLOUR, size, 0.8), (0, "X", BG_COLOUR, size * 1.3, 0.6))
    for label, marker, colour, area, edge in styles:
        x, y = coords[labels == label].T
        if len(x):
            edged = {"edgecolors": "black", "linewidths": edge, "zorder": 3, "clip_on": False}
            ax.scatter(x, y, s=area, c=colour, marker=marker, **edged)


def pick_indices(indices: Sequence[int], n: int) -> tuple[list[int], list[int]]:
    """Split wanted image indices into (those < ``n``, those skipped because they are >= n)."""
    kept = [int(i) for i in indices if 0 <= int(i) < n]
    skipped = [int(i) for i in indices if not 0 <= int(i) < n]
    return kept, skipped


def first_of_each_class(classes: np.ndarray, n_classes: int) -> list[int]:
    """Index of the first image of each class, in class order (classes absent are left out)."""
    classes = np.asarray(classes)
    return [int(np.flatnonzero(classes == c)[0]) for c in range(n_classes) if (classes == c).any()]
