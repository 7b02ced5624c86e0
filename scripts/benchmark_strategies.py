"""Point metrics and per-image cost (wall clock, CPU time, ratio to ``cam_argmax``) of every
registered prompt strategy on one split's CAMs (computed once, cached under runs/cams/).

Examples::

    python scripts/benchmark_strategies.py
    python scripts/benchmark_strategies.py --strategies 'segment_*' cam_argmax --repeats 5
    python scripts/benchmark_strategies.py --checkpoint checkpoints/bench_resnet18_state_dict.pt \\
        --data data/bench --split test --json runs/strategy_benchmark.json
    python scripts/benchmark_strategies.py --cams-npz runs/my_cams.npz   # CAMs from elsewhere
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from classifier import build_classifier
from common.cli import positive_int, run, script_parser
from common.errors import UserError
from evaluation.compare import CAM_AUG_SMOOTH_HELP, cached_cams, select_strategies
from metrics import summarize_points
from prompting import get_strategy
from prompting.timing import run_strategy
from shapes import SyntheticData, dataset_fingerprint

PEER = "cam_argmax"


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("--data", type=Path, default=Path("data/bench"), help="dataset folder")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--limit", type=positive_int, default=None, help="only the first N images")
    checkpoint = "ResNet-18 state dict (classifier.build_classifier architecture), or a "
    checkpoint += "classifier-cache checkpoint holding one"
    bench = Path("checkpoints/bench_resnet18_state_dict.pt")
    p.add_argument("--checkpoint", type=Path, default=bench, help=checkpoint)
    p.add_argument("--cam-method", default="gradcam", help="gradcam, gradcam++ or layercam")
    p.add_argument("--target-layer", default="layer2[-1]", help="CAM target layer")
    p.add_argument("--cam-aug-smooth", action="store_true", help=CAM_AUG_SMOOTH_HELP)
    cams = "use the 'cams' array (N, H, W) of this .npz instead of computing CAMs"
    p.add_argument("--cams-npz", type=Path, help=cams)
    p.add_argument("--cache-dir", type=Path, default=Path("runs/cams"), help="CAM cache folder")
    p.add_argument("--strategies", nargs="+", default=["*"], help="names or fnmatch patterns")
    repeats = "timing runs per strategy (min kept)"
    p.add_argument("--repeats", type=positive_int, default=3, help=repeats)
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    return p


def load_cams(args: argparse.Namespace, images: np.ndarray) -> tuple[np.ndarray, str]:
    """CAMs (N, H, W) for ``images`` and a note saying where they came from."""
    if args.cams_npz is not None:
        cams = np.load(args.cams_npz)["cams"][: len(images)].astype(np.float32)
        return cams, f"CAMs from {args.cams_npz}"
    if not args.checkpoint.is_file():
        raise UserError(f"no classifier checkpoint at {args.checkpoint} (see --checkpoint)")
    loaded = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    # a plain state dict, or a classifier-cache checkpoint that holds one under "state_dict"
    state = loaded.get("state_dict", loaded) if isinstance(loaded, dict) else loaded
    model = build_classifier()
    model.load_state_dict(state)
    data_key = f"{dataset_fingerprint(args.data)}|{args.split}|{args.limit}"
    method, layer = args.cam_method, args.target_layer
    smooth = args.cam_aug_smooth
    cams = cached_cams(
        model.eval(),
        images,
        method,
        layer,
        args.cache_dir,
        data_key,
        args.batch_size,
        aug_smooth=smooth,
    )
    method += " (aug_smooth)" if smooth else ""
    return cams, f"{method} CAMs at {layer} of {args.checkpoint} (cached in {args.cache_dir})"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def main(args: argparse.Namespace) -> None:
    arrays = SyntheticData(args.data, args.split).arrays()
    if args.limit is not None:
        arrays = arrays.subset(np.arange(min(args.limit, len(arrays))))
    names = select_strategies(tuple(args.strategies))
    cams, note = load_cams(args, arrays.images)
    if PEER not in names:
        names.append(PEER)
    rows = []
    timing_options = {"batch_size": args.batch_size, "repeats": args.repeats}
    for name in names:
        strategy = get_strategy(name)
        coords, labels, timing = run_strategy(
            strategy, cams, arrays.images, arrays.masks, **timing_options
        )
        row = {"strategy": name, "oracle": strategy.oracle, "bg": strategy.emits_background}
        row |= summarize_points(coords, labels, arrays.masks)
        row |= {"ms_per_image": 1000 * timing.wall_s, "cpu_ms_per_image": 1000 * timing.cpu_s}
        rows.append(row)
    peer_ms = next(r["ms_per_image"] for r in rows if r["strategy"] == PEER)
    print(f"{args.data} {args.split} ({len(arrays)} images); {note}")
    width = max(len("strategy"), *(len(r["strategy"]) for r in rows))
    header = (
        f"{'strategy':<{width}} {'kind':<7} {'fg hit %':>8} {'bg ok %':>8} "
        f"{'dist px':>8} {'median':>7} {'ms/img':>7} {'cpu ms':>7} {'x ' + PEER:>14}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        kind = get_strategy(r["strategy"]).kind
        print(
            f"{r['strategy']:<{width}} {kind:<7} {_pct(r['fg_hit_rate']):>8} "
            f"{_pct(r['bg_correct_rate']):>8} {r['fg_distance_px']:>8.2f} "
            f"{r['fg_distance_median_px']:>7.2f} {r['ms_per_image']:>7.2f} "
            f"{r['cpu_ms_per_image']:>7.2f} {r['ms_per_image'] / peer_ms:>14.1f}"
        )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"note": note, "rows": rows}, indent=2))


if __name__ == "__main__":
    run(main, build_parser())
