"""The comparison table: as LaTeX (``metrics.tex``) and as plain text for the terminal.

A *row* is a dict with at least ``strategy``, ``kind`` (``fg``, ``fg+bg``, ``oracle`` or
``supervised``), ``segmenter``, ``n_images``, ``miou`` and ``iou_std``, and the point metrics of
:func:`metrics.summary.summarize_points` (``fg_hit_rate``, ``fg_distance_px``, ``bg_hit_rate``,
``bg_distance_px``; None or absent where they do not apply). Rates are fractions in 0..1,
printed as percentages; a background point should miss the mask and lie far from its centre.

The module depends on nothing else in the project; the submission notebook inlines it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

AUTOMATIC_KINDS = ("fg", "fg+bg")
KIND_ORDER = {"fg": 0, "fg+bg": 1, "oracle": 2, "supervised": 3}
SECTION_TITLES = {
    "oracle": "Oracle points (read the ground-truth mask; a ceiling, not ranked)",
    "supervised": "Supervised reference (trained on the masks; not ranked)",
}
#: (column key, header, higher is better)
COLUMNS = (
    ("fg_hit_rate", "FG hit", True),
    ("fg_distance_px", "FG dist (px)", False),
    ("bg_hit_rate", "BG hit", False),
    ("bg_distance_px", "BG dist (px)", True),
    ("miou", "mIoU", True),
)
DISTANCE_KEYS = ("fg_distance_px", "bg_distance_px")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def best_automatic(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Best value of each column over the automatic (``fg`` / ``fg+bg``) rows."""
    best: dict[str, float] = {}
    for key, _, higher in COLUMNS:
        values = [
            r[key] for r in rows if r["kind"] in AUTOMATIC_KINDS and not _is_missing(r.get(key))
        ]
        if values:
            best[key] = max(values) if higher else min(values)
    return best


def sort_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Automatic rows by mean IoU (best first), then oracle rows, then supervised rows."""
    return sorted(rows, key=lambda r: (KIND_ORDER.get(r["kind"], 9), -(r["miou"] or 0.0)))


def _fmt(key: str, value: Any) -> str:
    if _is_missing(value):
        return "--"
    if key in DISTANCE_KEYS:
        return f"{value:.2f}"
    return f"{100 * value:.1f}"


_TEX_SPECIAL = {ch: "\\" + ch for ch in "_%&#${}"} | {"^": r"\^{}", "\\": r"\textbackslash{}"}
_TEX_SPECIAL |= {"~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def tex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (for plain text, not math)."""
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


def latex_table(rows: Sequence[dict[str, Any]], caption: str, label: str = "tab:metrics") -> str:
    """A booktabs table: best automatic value of each column in bold; oracle and supervised rows
    set apart under their own headings. Percentages for rates and IoU, pixels for distance."""
    rows = sort_rows(rows)
    best = best_automatic(rows)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        rf"\caption{{{tex_escape(caption)}}}",
        rf"\label{{{label}}}",
        r"\begin{tabular}{llrrrrr}",
        r"\toprule",
        r"Strategy & Kind & FG hit (\%) & FG dist (px) & BG hit (\%) & BG dist (px) "
        r"& mIoU $\pm$ std (\%) \\",
        r"\midrule",
    ]
    section = None
    for row in rows:
        kind = row["kind"]
        if kind in SECTION_TITLES and kind != section:
            lines += [r"\midrule", rf"\multicolumn{{7}}{{l}}{{\emph{{{SECTION_TITLES[kind]}}}}} \\"]
            section = kind
        cells = [rf"\texttt{{{tex_escape(row['strategy'])}}}", tex_escape(kind)]
        for key, _, _ in COLUMNS:
            value = row.get(key)
            text = _fmt(key, value)
            candidate = kind in AUTOMATIC_KINDS and key in best and not _is_missing(value)
            if candidate and math.isclose(value, best[key], rel_tol=0, abs_tol=1e-12):
                text = rf"\textbf{{{text}}}"
            if key == "miou" and not _is_missing(row.get("iou_std")):
                text = f"{text} $\\pm$ {100 * row['iou_std']:.1f}"
            cells.append(text)
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def text_table(rows: Sequence[dict[str, Any]], title: str) -> str:
    """A plain-text version of the LaTeX table for the terminal."""
    rows = sort_rows(rows)
    header = ["strategy", "kind", "segmenter"] + [h for _, h, _ in COLUMNS] + ["IoU std", "n"]
    body = [
        [r["strategy"], r["kind"], r["segmenter"]]
        + [_fmt(k, r.get(k)) for k, _, _ in COLUMNS]
        + [_fmt("iou_std", r.get("iou_std")), str(r["n_images"])]
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    sep = "-" * len(line(header))
    note = (
        "rates and IoU in %, distances in pixels to the mask's centre of mass; "
        "BG hit: share of background points inside the mask (lower is better)"
    )
    return "\n".join([title, sep, line(header), sep, *(line(b) for b in body), sep, note])
