"""Issue #17's goals table from comparison runs: one row per run folder (a dataset of the stress
suite), for its best automatic strategy (highest foreground hit rate, then mean IoU; oracles
excluded).

Columns: the classifier's test accuracy, the strategy, its foreground hit rate overall, in the
lowest-contrast fifth of images (``contrast`` of ``per_image.csv``, at or below its 20 %
quantile) and in its worst class, its mean IoU and the oracle's (``oracle_interior``, same
segmenter). Prints a Markdown table.

Examples::

    python scripts/compare_strategies.py --data data/stress/textured --segmenter flood_fill \\
        --strategies multiscale_heat segment_heat oracle_interior --out runs/stress/textured
    python scripts/stress_table.py runs/stress/bench runs/stress/textured
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from common.cli import run, script_parser
from common.errors import UserError

ORACLE = "oracle_interior"


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("runs", type=Path, nargs="+", help="compare_strategies.py --out folders")
    return p


def goal_row(folder: Path) -> str:
    """The Markdown row of one run folder (metrics.json and per_image.csv)."""
    if not (folder / "per_image.csv").is_file():
        raise UserError(f"{folder} has no per_image.csv; run compare_strategies.py --out {folder}")
    settings = json.loads((folder / "metrics.json").read_text())["settings"]
    with (folder / "per_image.csv").open() as f:
        rows = list(csv.DictReader(f))
    by = {}
    for r in rows:
        by.setdefault(r["strategy"], []).append(r)
    if ORACLE not in by:
        raise UserError(f"{folder}: the run has no {ORACLE} row to compare the IoU with")

    def col(name: str, key: str) -> np.ndarray:
        return np.array([float(r[key]) if r[key] else np.nan for r in by[name]])

    auto = [n for n in by if by[n][0]["kind"] != "oracle"]
    best = max(auto, key=lambda n: (np.nanmean(col(n, "fg_hit_rate")), np.nanmean(col(n, "iou"))))
    hit, contrast = col(best, "fg_hit_rate"), col(best, "contrast")
    low = contrast <= np.nanquantile(contrast, 0.2)
    classes = np.array([r["class"] for r in by[best]])
    per_class = {c: hit[classes == c].mean() for c in sorted(set(classes))}
    worst = min(per_class, key=per_class.get)
    iou, oracle_iou = np.nanmean(col(best, "iou")), np.nanmean(col(ORACLE, "iou"))
    cells = [
        Path(settings["dataset"]["path"]).name,
        f"{100 * settings['classifier']['test_accuracy']:.1f} %",
        f"`{best}`",
        f"{100 * hit.mean():.1f} %",
        f"{100 * hit[low].mean():.1f} %",
        f"{100 * per_class[worst]:.1f} % ({worst})",
        f"{iou:.3f} / {oracle_iou:.3f} ({iou - oracle_iou:+.3f})",
    ]
    return "| " + " | ".join(cells) + " |"


def main(args: argparse.Namespace) -> int:
    print(
        "| dataset | classifier test acc. | best automatic | fg hit | lowest-contrast fifth "
        "| worst class | mean IoU / oracle's |"
    )
    print("|---|---|---|---|---|---|---|")
    for folder in args.runs:
        print(goal_row(folder))
    return 0


if __name__ == "__main__":
    run(main, build_parser())
