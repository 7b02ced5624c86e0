"""Draw the report figures from what ``scripts/compare_strategies.py`` saved (nothing that is
saved there is recomputed; only the feature maps run the classifier).

Examples::

    python scripts/make_figures.py                                  # figures/ -> figures/
    python scripts/make_figures.py --results runs/quick --out runs/quick/figures
    python scripts/make_figures.py --only iou_distribution points_metrics
    python scripts/make_figures.py --no-feature-maps                # no classifier needed
    python scripts/make_figures.py --only report --approaches flood_heat flood_heat_bg

Reads metrics.json, per_image.csv and predictions.npz from --results and writes every figure
as <name>.png (150 dpi) and <name>.pdf into --out.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from common.cli import positive_int, run, script_parser
from plots.make import (
    EXAMPLE_INDEX,
    FIGURE_GROUPS,
    FigureOptions,
    add_results_options,
    make_figures,
)


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    add_results_options(p, "the report's two approaches, for its examples figure")
    p.add_argument("--out", type=Path, default=Path("figures"), help="where the figures go")
    everything, groups = list(FIGURE_GROUPS), "figure groups to draw (default: all)"
    p.add_argument("--only", nargs="+", choices=FIGURE_GROUPS, default=everything, help=groups)
    p.add_argument("--worst", type=positive_int, default=6, help="worst-failures gallery size")
    top = "strategies in the per-class and diagnostics charts"
    p.add_argument("--top", type=positive_int, default=4, help=top)
    public = "draw the public solution's numbers (real course data, real SAM ViT-B: a different "
    public += "setting, not measured here) as dashed lines"
    p.add_argument("--public-reference", dest="reference", action="store_true", help=public)
    example = "image shown in the report's examples figure"
    p.add_argument("--example-index", type=int, default=EXAMPLE_INDEX, help=example)
    no_maps = "skip the feature maps (the only figure that needs the classifier)"
    p.add_argument("--no-feature-maps", dest="feature_maps", action="store_false", help=no_maps)
    recorded = " (default: the one in metrics.json)"
    p.add_argument("--data", type=Path, help="dataset of the classifier" + recorded)
    p.add_argument("--classifier-preset", help="classifier recipe" + recorded)
    p.add_argument("--checkpoints", type=Path, help="classifier checkpoint cache" + recorded)
    return p


def main(args: argparse.Namespace) -> None:
    # the options' dest names are FigureOptions' fields
    options = FigureOptions(**{f.name: getattr(args, f.name) for f in fields(FigureOptions)})
    written = make_figures(args.results, args.out, options)
    for name, paths in written.items():
        print(f"{name}: {', '.join(str(p) for p in paths)}")


if __name__ == "__main__":
    run(main, build_parser())
