"""Issue #17's goals table from comparison runs, one Markdown row per run folder (a dataset of
the stress suite): see :func:`evaluation.stress_goals.goal_cells`.

Examples::

    python scripts/compare_strategies.py --data data/stress/textured --segmenter flood_fill \\
        --strategies multiscale_heat segment_heat oracle_interior --out runs/stress/textured
    python scripts/stress_table.py runs/stress/bench runs/stress/textured
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common.cli import run, script_parser
from evaluation.results import load_results
from evaluation.stress_goals import GOAL_HEADER, goal_cells


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("runs", type=Path, nargs="+", help="compare_strategies.py --out folders")
    return p


def main(args: argparse.Namespace) -> None:
    print("| " + " | ".join(GOAL_HEADER) + " |")
    print("|" + "---|" * len(GOAL_HEADER))
    for folder in args.runs:
        results = load_results(folder, required=("metrics.json", "per_image.csv"))
        print("| " + " | ".join(goal_cells(results)) + " |")


if __name__ == "__main__":
    run(main, build_parser())
