"""Train (or load from the cache) the ResNet-18 shape classifier and report its test accuracy.

ImageNet weights are used when available (torch hub cache or download): then the template's
5-epoch fine-tune. Offline, it trains from scratch with the curriculum recipe and says so.
The checkpoint, its settings (.json) and the learning curve (_curve.csv) go to --out.

Examples::

    python scripts/train_classifier.py --data data/bench
    python scripts/train_classifier.py --data data/bench --steps 500 --seed 1 --retrain
    python scripts/train_classifier.py --data data/bench --set lr=0.003 --set curriculum='"interp"'
    python scripts/train_classifier.py --data data/synthetic_shapes --tiny     # smoke run
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import time
from pathlib import Path

import torch

from classifier import TrainConfig, load_or_train
from classifier.chance import chance_warning
from classifier.config import FINETUNE, SCRATCH
from common.atomic import atomic_write, ensure_writable_dir
from common.cli import positive_int, run, script_parser
from common.device import DEVICE_CHOICES, describe_device, resolve_device
from common.errors import UserError
from shapes import SyntheticData


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    data = "dataset root in the course layout"
    p.add_argument("--data", type=Path, default=Path("data/synthetic_shapes"), help=data)
    p.add_argument("--out", type=Path, default=Path("checkpoints"), help="checkpoint cache folder")
    recipe = "default: auto (ImageNet fine-tune when weights exist)"
    p.add_argument("--recipe", choices=["auto", SCRATCH, FINETUNE], default=None, help=recipe)
    p.add_argument("--steps", type=positive_int, default=None, help="from-scratch optimiser steps")
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--lr", type=float, default=None, help="from-scratch peak learning rate")
    p.add_argument("--seed", type=int, default=None)
    backgrounds = "background source for fresh samples (default: from generation.json)"
    p.add_argument("--backgrounds", default=None, help=backgrounds)
    field = "any TrainConfig field, value as JSON, e.g. --set label_smoothing=0.0 (default: none)"
    p.add_argument("--set", action="append", default=[], metavar="FIELD=JSON", help=field)
    p.add_argument("--tiny", action="store_true", help="start from the TrainConfig.tiny() preset")
    p.add_argument("--device", default="auto", help=f"{DEVICE_CHOICES}; auto: CUDA if available")
    p.add_argument("--threads", type=positive_int, default=None, help="torch.set_num_threads")
    p.add_argument("--retrain", action="store_true", help="ignore a valid cached checkpoint")
    p.add_argument("--no-progress", action="store_true", help="hide the tqdm bar")
    return p


def make_config(args: argparse.Namespace) -> TrainConfig:
    """TrainConfig from the defaults (or the tiny preset) and the command-line overrides."""
    options = ("recipe", "steps", "batch_size", "lr", "seed", "backgrounds")
    overrides = {k: getattr(args, k) for k in options if getattr(args, k) is not None}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set expects FIELD=JSON, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError as exc:
            raise UserError(f"--set {key}: {value!r} is not JSON ({exc})") from exc
    base = TrainConfig.tiny() if args.tiny else TrainConfig()
    data = {**base.to_dict(), **overrides}
    try:
        return TrainConfig.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise UserError(f"bad training settings (--set or an option): {exc}") from exc


def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    config = make_config(args)
    if not args.data.is_dir():
        raise UserError(
            f"--data {args.data} does not exist; create a dataset there with "
            f"'python scripts/prepare_data.py --out {args.data}'"
        )
    ensure_writable_dir(args.out, "--out")
    device = resolve_device(args.device)
    print(f"device: {describe_device(device)}")
    start, cpu_start = time.perf_counter(), time.process_time()
    _, info = load_or_train(
        args.data,
        config,
        cache_dir=args.out,
        device=device,
        progress=not args.no_progress,
        retrain=args.retrain,
    )
    wall = time.perf_counter() - start
    ckpt = Path(info.checkpoint)
    curve_csv = ckpt.with_name(ckpt.stem + "_curve.csv")

    width = max((len(row) for row in info.curve), default=5)

    def write_curve(tmp: Path) -> None:
        with tmp.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["step", "loss", "train_acc", "val_acc", "val_cam_hit"][:width])
            writer.writerows(info.curve)

    atomic_write(curve_csv, write_curve)
    weights = "ImageNet weights" if info.imagenet_weights else "from scratch (no ImageNet weights)"
    print(f"recipe: {info.recipe} -- {weights}")
    print(f"note: {info.weights_note}")
    print(
        f"test accuracy: {100 * info.test_accuracy:.2f} %  (val {100 * info.val_accuracy:.2f} % "
        f"at step {info.best_step})"
    )
    n_test = len(SyntheticData(args.data, "test"))
    warning = chance_warning(info.test_accuracy, n_test, f"the {n_test} test images")
    if warning is not None:
        print(f"warning: {warning}")
    if info.val_cam_hit is not None and info.test_cam_hit is not None:
        print(
            f"Grad-CAM argmax in the shape (layer2[-1]): test {100 * info.test_cam_hit:.1f} %  "
            f"(val {100 * info.val_cam_hit:.1f} %)"
        )
    if info.from_cache:
        print(f"loaded from cache in {wall:.1f} s (training had taken {info.train_seconds:.0f} s)")
    else:
        print(
            f"training: {info.train_seconds:.0f} s; whole run {wall:.0f} s wall, "
            f"{time.process_time() - cpu_start:.0f} s CPU ({torch.get_num_threads()} threads)"
        )
    print(f"checkpoint: {ckpt}\nsettings: {ckpt.with_suffix('.json')}\ncurve: {curve_csv}")
    defaults = TrainConfig().to_dict()
    changed = {k: v for k, v in config.to_dict().items() if v != defaults[k]}
    if changed:
        print(f"settings changed from the defaults: {changed}")


if __name__ == "__main__":
    run(main, build_parser())
