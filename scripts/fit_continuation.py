"""Fit the second-point model of ``multiscale_heat_parts`` on comparison runs of val splits,
check it on each run left out of the fit, and print the fitted model to paste into
``prompting/shape_parts.py`` (``CONTINUATION``); the settings and the checks go to --out.

Examples::

    for d in bench stress/translucent stress/low_contrast stress/small stress/textured; do
      python scripts/compare_strategies.py --data data/$d --split val --segmenter flood_fill \\
        --no-supervised --no-variants --strategies multiscale_heat oracle_interior \\
        --out runs/val/$(basename $d)
    done
    python scripts/fit_continuation.py runs/val/{bench,translucent,low_contrast,small,textured}
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from common.atomic import atomic_write_text
from common.cli import run, script_parser
from evaluation.continuation_fit import collect_examples, evaluate_model, fit_model
from evaluation.results import load_results
from sam_pipelines.flood_fill import FloodFillSegmenter


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("runs", type=Path, nargs="+", help="compare_strategies.py --split val folders")
    p.add_argument("--threshold", type=float, default=0.9, help="probability to add the point")
    p.add_argument("--regularisation", type=float, default=1.0, help="inverse L2 strength")
    p.add_argument("--out", type=Path, default=Path("runs/continuation_fit.json"))
    return p


def main(args: argparse.Namespace) -> None:
    loaded = {folder.name: load_results(folder) for folder in args.runs}
    examples = {
        name: collect_examples(results, name)
        for name, results in tqdm(loaded.items(), desc="candidates")
    }
    segmenter = FloodFillSegmenter()
    checks = {}
    print("| left out | second points | of them outside | fg hit | IoU gap |")
    print("|---|---|---|---|---|")
    for name, results in loaded.items():
        others = [e for other, e in examples.items() if other != name]
        model = fit_model(others, args.threshold, args.regularisation)
        pred = results.predictions
        assert pred is not None  # collect_examples checked it
        c = evaluate_model(examples[name], model, pred.images, pred.gt_masks, segmenter)
        checks[name] = c
        print(
            f"| {name} | {c['added']:.0f} | {c['missed']:.0f} "
            f"| {100 * c['fg_hit_before']:.2f} → {100 * c['fg_hit_after']:.2f} % "
            f"| {c['gap_before']:+.4f} → {c['gap_after']:+.4f} |"
        )
    model = fit_model(list(examples.values()), args.threshold, args.regularisation)
    print("\nCONTINUATION = ContinuationModel(")
    for field, value in asdict(model).items():
        if isinstance(value, tuple):
            value = "(" + ", ".join(f"{v:.4g}" for v in value) + ")"
        else:
            value = f"{value:.4g}"
        print(f"    {field}={value},")
    print(")")
    record = {
        "runs": [str(f) for f in args.runs],
        "threshold": args.threshold,
        "regularisation": args.regularisation,
        "candidates": {n: len(e.good) for n, e in examples.items()},
        "good": {n: int(e.good.sum()) for n, e in examples.items()},
        "left_out_checks": checks,
        "model": asdict(model),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(record, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    run(main, build_parser())
