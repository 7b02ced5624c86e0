"""Oracle-point mean IoU and speed of the segmenter back ends on a dataset split.

Every back end gets the same oracle prompts (by default ``oracle_interior_bg`` and
``oracle_interior``), so the table measures the back end. Time is ``set_image`` + ``predict``
per image, also as a ratio to a plain single-tolerance flood fill in the same run (less noisy).

Examples::

    python scripts/benchmark_segmenters.py                                 # data/bench test split
    python scripts/benchmark_segmenters.py --segmenters flood_fill --limit 100
    python scripts/benchmark_segmenters.py --data data/synthetic_shapes --strategies oracle_interior
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from common.cli import positive_int, run, script_parser
from metrics import iou_per_image
from sam_pipelines import make_segmenter, segment_image
from sam_pipelines.flood_fill import FloodFillSegmenter

PEER_NAME = "plain flood fill (tol 8)"


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("--data", type=Path, default=Path("data/bench"), help="dataset root")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    segmenters = "comma-separated registry names (default: the classical back ends)"
    p.add_argument("--segmenters", default="flood_fill,random_walker,watershed", help=segmenters)
    strategies = "comma-separated prompt strategies (oracles need no classifier)"
    p.add_argument("--strategies", default="oracle_interior_bg,oracle_interior", help=strategies)
    p.add_argument("--limit", type=positive_int, default=None, help="use the first N images only")
    p.add_argument("--no-progress", action="store_true")
    return p


def run_segmenter(
    segmenter, images, masks, coords, labels, desc: str, progress: bool
) -> tuple[np.ndarray, float]:
    """Segment every image (uint8 (B, H, W, 3); highest-score mask) from coords int (B, N, 2)
    (X, Y) and labels int (B, N): float64 (B,) IoU against ``masks`` bool (B, H, W), and
    milliseconds per image of ``set_image`` + ``predict``."""
    pred = np.empty(masks.shape, dtype=bool)
    start = time.perf_counter()
    for i in tqdm(range(len(images)), desc=desc, disable=not progress, leave=False):
        pred[i] = segment_image(segmenter, images[i], coords[i], labels[i]).mask
    ms_per_image = 1000.0 * (time.perf_counter() - start) / max(len(images), 1)
    return iou_per_image(pred, masks), ms_per_image


def main(args: argparse.Namespace) -> None:
    from prompting import get_strategy
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
        coords, labels = get_strategy(strategy_name)(cams, images, masks)
        # the speed peer: Lab flood fill with the single tolerance 8 (no tolerance search)
        peer = FloodFillSegmenter(tolerances=(8,))
        runs = {PEER_NAME: run_segmenter(peer, images, masks, coords, labels, "peer", progress)}
        for name in args.segmenters.split(","):
            seg = make_segmenter(name)
            runs[name] = run_segmenter(seg, images, masks, coords, labels, name, progress)
        peer_ms = runs[PEER_NAME][1]
        for name, (ious, ms) in runs.items():
            print(
                f"{name:<26} {strategy_name:<20} {ious.mean():7.4f} {ious.std():6.3f} "
                f"{ms:7.2f} {ms / peer_ms:6.2f}"
            )


if __name__ == "__main__":
    run(main, build_parser())
