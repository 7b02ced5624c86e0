"""Compare every registered point-prompt strategy: points, masks and the LaTeX table.

Examples::

    python scripts/compare_strategies.py                       # everything, offline defaults
    python scripts/compare_strategies.py --list                # strategies and segmenters
    python scripts/compare_strategies.py --data data/bench --strategies 'cam_*' oracle_*
    python scripts/compare_strategies.py --segmenter sam --sam-checkpoint sam_vit_b_01ec64.pth
    python scripts/compare_strategies.py --limit 50 --out runs/quick
    python scripts/compare_strategies.py --data data/other --generate      # make it first
    python scripts/compare_strategies.py --data data/test_only --classifier-checkpoint ck.pt

Writes metrics.json (settings + rows), metrics.csv, per_image.csv, metrics.tex and
predictions.npz into --out (all together, or none on a failure) and prints the table. The
options, --out and the dataset's files are checked before anything is trained or computed.
"""

from __future__ import annotations

import argparse

from common.cli import run
from evaluation.compare import HELP, CompareConfig, run_comparison
from evaluation.dataclass_cli import add_dataclass_arguments, dataclass_from_args
from evaluation.save import save_comparison
from evaluation.tables import text_table


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--list", action="store_true", help="print the registries and exit")
    add_dataclass_arguments(p, CompareConfig, HELP)
    return p


def print_registries() -> None:
    from prompting import get_strategy, list_strategies
    from sam_pipelines import SEGMENTERS

    print("strategies:")
    for name in list_strategies():
        s = get_strategy(name)
        kind = "oracle" if s.oracle else ("fg+bg" if s.emits_background else "fg")
        print(f"  {name:<24} {kind:<7} {s.description}")
    print("segmenters:")
    for name, entry in SEGMENTERS.items():
        print(f"  {name:<24} {entry.description}")


def main(args: argparse.Namespace) -> int:
    if args.list:
        print_registries()
        return 0
    config = dataclass_from_args(CompareConfig, args)
    result = run_comparison(config)
    n = result.settings["dataset"]["n_images"]
    caption = (
        f"Point prompts and masks on the {config.split} split ({n} images, "
        f"{result.settings['dataset']['path']}); segmenter: {result.settings['segmenter']}."
    )
    paths = save_comparison(config.out, result, caption)
    print(text_table(result.rows, caption))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


if __name__ == "__main__":
    run(main, build_parser())
