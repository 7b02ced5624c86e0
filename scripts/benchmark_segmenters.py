"""Oracle-point mean IoU and speed of the segmenter back ends on a dataset split.

Every back end gets the same oracle prompts (``prompting``'s ``oracle_interior_bg``: the mask's
most interior pixel as foreground and the pixel farthest from it as background; and
``oracle_interior``: the foreground point alone), so the table measures the back end. Time is
``set_image`` + ``predict`` per image, also as a ratio to a plain single-tolerance flood fill
measured in the same run (timings on a shared machine are noisy; the ratio less so).

Examples::

    python scripts/benchmark_segmenters.py                                 # data/bench test split
    python scripts/benchmark_segmenters.py --segmenters flood_fill --limit 100
    python scripts/benchmark_segmenters.py --data data/synthetic_shapes --strategies oracle_interior
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from common.cli import positive_int, run


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/bench"), help="dataset root")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument(
        "--segmenters",
        default="flood_fill,random_walker,watershed",
        help="comma-separated registry names (default: the classical back ends)",
    )
    p.add_argument(
        "--strategies",
        default="oracle_interior_bg,oracle_interior",
        help="comma-separated prompt strategies (oracles need no classifier)",
    )
    p.add_argument("--limit", type=positive_int, default=None, help="use the first N images only")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(args: argparse.Namespace) -> int:
    from prompting import get_strategy
    from sam_pipelines import get_segmenter
    from sam_pipelines.benchmark import PEER_NAME, plain_flood_fill, run_segmenter
    from shapes import SyntheticData

    arrays = SyntheticData(args.data, args.split).arrays()
    images, masks = arrays.images[: args.limit], arrays.masks[: args.limit]
    cams = np.zeros(masks.shape, np.float32)  # the oracles do not read the CAM
    progress = not args.no_progress
    print(f"{args.data} {args.split}: {len(images)} images")
    header = f"{'segmenter':<26} {'strategy':<20} {'mIoU':>7} {'std':>6} {'ms/img':>7} {'/peer':>6}"
    print(header)
    print("-" * len(header))
    for strategy_name in args.strategies.split(","):
        strategy = get_strategy(strategy_name)
        coords, labels = strategy(cams, images, masks)
        peer = run_segmenter(plain_flood_fill(), images, masks, coords, labels, "peer", progress)
        runs = [(PEER_NAME, peer)]
        for name in args.segmenters.split(","):
            run = run_segmenter(get_segmenter(name), images, masks, coords, labels, name, progress)
            runs.append((name, run))
        for name, run in runs:
            print(
                f"{name:<26} {strategy_name:<20} {run.miou:7.4f} {run.ious.std():6.3f} "
                f"{run.ms_per_image:7.2f} {run.ms_per_image / peer.ms_per_image:6.2f}"
            )
    return 0


if __name__ == "__main__":
    run(main, build_parser())
