"""Rehearse the submission notebook on a simulated fresh Colab runtime and time each section.

A local server serves a generated course zip and a random-weight SAM ViT-B checkpoint
(timings are real, masks are not); the notebook runs cell by cell in IPython where the
project cannot be imported (see ``evaluation/rehearsal.py``). Prints each section's wall time
and writes them to ``--out``. Needs ``segment-anything`` and ``ipython``. Examples::

    python scripts/rehearse_colab.py --workdir /tmp/rehearsal            # 3500/1000/500 images
    python scripts/rehearse_colab.py --sizes 12 6 43 --limit 2 --workdir /tmp/small
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.cli import run, script_parser  # noqa: E402
from evaluation.rehearsal import (  # noqa: E402
    fresh_runtime_env,
    run_notebook_cells,
    serve_folder,
    stage_fresh_runtime,
)


def main(args: argparse.Namespace) -> None:
    work = args.workdir.resolve()
    served, runtime = work / "served", work / "colab"
    for folder in (served, runtime):
        folder.mkdir(parents=True, exist_ok=False)
    t0 = time.perf_counter()
    sizes = dict(zip(("train", "val", "test"), args.sizes, strict=True))
    md5 = stage_fresh_runtime(work, sizes)
    print(f"prepared the served files in {time.perf_counter() - t0:.1f} s", flush=True)
    with serve_folder(served) as base_url:
        env = fresh_runtime_env(base_url, work, md5, args.limit, args.extra_path)
        t1 = time.perf_counter()
        rows = run_notebook_cells(args.notebook, runtime, env, args.out)
        total = time.perf_counter() - t1
    per_section: dict[str, float] = defaultdict(float)
    for row in rows:
        per_section[row["section"]] += row["seconds"]
    print(f"\nnotebook start to end: {total:.1f} s ({len(rows)} code cells)")
    for section, seconds in per_section.items():
        print(f"  {seconds:8.1f} s  {section}")
    args.out.write_text(json.dumps({"total_s": total, "cells": rows}, indent=1))


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("--workdir", type=Path, required=True, help="a new folder for everything")
    p.add_argument("--notebook", type=Path, default=ROOT / "notebook.ipynb")
    sizes = ("TRAIN", "VAL", "TEST")
    p.add_argument("--sizes", type=int, nargs=3, default=(3500, 1000, 500), metavar=sizes)
    p.add_argument("--limit", type=int, default=None, help="evaluate only N test images")
    extra = "more PYTHONPATH for the notebook, e.g. wheels (default: none)"
    p.add_argument("--extra-path", default="", help=extra)
    p.add_argument("--out", type=Path, default=Path("rehearsal_timings.json"))
    return p


if __name__ == "__main__":
    run(main, build_parser())
