"""Train the supervised reference segmenters (smp FPN-ResNet50, FPN-VGG19, PSPNet-ResNet50).

They learn the train split's foreground masks, are selected on val and scored on test with
metrics' IoU; checkpoints go to ``checkpoints/supervised/`` keyed by dataset fingerprint and
settings, so a second run only loads and reports. Feature-map figures (the seed's section 2.4)
go to ``figures/``.

Examples::

    python scripts/train_supervised.py --data data/bench                  # all three models
    python scripts/train_supervised.py --data data/bench --models fpn_resnet50 --summary
    python scripts/train_supervised.py --data data/bench --epochs 1 --limit 256   # quick run
    python scripts/train_supervised.py --data data/bench --no-train       # table of cached ones

The defaults depend on the device (``supervised.schedules``): on the CPU all three models, each
with its own schedule (``supervised.MODEL_DEFAULTS``); on CUDA FPN ResNet-50 at input scale 4
for 25 epochs. ``--models``, ``--epochs``, ``--input-scale`` etc. override them for every model.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path

import torch

from common.cli import positive_int, run, script_parser
from common.device import DEVICE_CHOICES, describe_device, resolve_device
from common.errors import UserError
from plots.features import segmenter_feature_maps_figure
from shapes import dataset_fingerprint
from supervised import (
    MODEL_DEFAULTS,
    MODEL_SPECS,
    TrainConfig,
    build_model,
    default_config,
    load_reference_models,
    load_splits,
    model_summary,
    resolve_encoder_weights,
    train_or_load,
)
from supervised.schedules import SCHEDULES, DeviceSchedule, device_schedule

DEFAULTS = TrainConfig()


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    cpu, cuda = ",".join(SCHEDULES["cpu"].models), ",".join(SCHEDULES["cuda"].models)
    models = f"comma-separated subset of {','.join(MODEL_SPECS)} (default: {cpu} on the CPU, "
    models += f"{cuda} on CUDA)"
    p.add_argument("--models", default=None, help=models)
    data = "dataset folder in the course layout"
    p.add_argument("--data", type=Path, default=Path("data/synthetic_shapes"), help=data)
    per_model = (  # options whose default differs per model (MODEL_DEFAULTS)
        ("--epochs", "epochs", positive_int, "passes over the train split"),
        ("--input-scale", "input_scale", positive_int, "enlarge inputs this many times"),
        ("--val-limit", "val_limit", positive_int, "score only the first N val images per epoch"),
        ("--batch-size", "batch_size", positive_int, "images per step"),
        ("--lr", "lr", float, "Adam's peak learning rate"),
    )
    for flag, field, kind, what in per_model:
        cpu = [f"{n} {s.get(field, getattr(DEFAULTS, field))}" for n, s in MODEL_DEFAULTS.items()]
        cuda = [f"{n} {s[field]}" for n, s in SCHEDULES["cuda"].overrides.items() if field in s]
        on_cuda = f"; on CUDA {', '.join(cuda)}" if cuda else ""
        text = f"{what} (default per model: {', '.join(cpu)}{on_cuda})"
        p.add_argument(flag, type=kind, help=text)
    p.add_argument("--limit", type=positive_int, help="use only the first N train images")
    p.add_argument("--seed", type=int, default=DEFAULTS.seed)
    weights = "imagenet when cached or downloadable, else from scratch (said in output)"
    p.add_argument(
        "--encoder-weights", choices=["imagenet", "none"], default="imagenet", help=weights
    )
    offline = "never try to download encoder weights (use the cache only)"
    p.add_argument("--offline", action="store_true", help=offline)
    p.add_argument("--cache-dir", type=Path, default=Path("checkpoints"))
    figures = "folder for feature_maps_<model>.png"
    p.add_argument("--figures", type=Path, default=Path("figures"), help=figures)
    p.add_argument("--no-figures", action="store_true", help="skip the feature-map figures")
    p.add_argument("--device", default="auto", help=f"{DEVICE_CHOICES} (default auto)")
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    p.add_argument("--force", action="store_true", help="retrain even when a checkpoint exists")
    no_train = "only report checkpoints that exist for this dataset (any settings)"
    p.add_argument("--no-train", action="store_true", help=no_train)
    p.add_argument("--summary", action="store_true", help="print each model's torchinfo summary")
    p.add_argument("--no-progress", action="store_true")
    return p


def _models(arg: str) -> list[str]:
    names = [n.strip() for n in arg.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODEL_SPECS]
    if unknown or not names:
        raise UserError(f"unknown --models {unknown or arg!r}; choose from {','.join(MODEL_SPECS)}")
    return names


def _table(rows: list[dict]) -> str:
    head = (
        f"{'model':<16} {'encoder init':<12} {'params':>11} {'epochs':>6} {'train imgs':>10} "
        f"{'train time':>10} {'CPU time':>9} {'val mIoU':>8} {'test mIoU':>9} {'test std':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['model']:<16} {r['encoder_weights'] or 'scratch':<12} {r['params']:>11,} "
            f"{r['config']['epochs']:>6} {r['n_train_images']:>10} "
            f"{r['train_seconds'] / 60:>8.1f} m {r.get('cpu_seconds', float('nan')) / 60:>7.1f} m "
            f"{r['val_miou']:>8.4f} {r['test']['miou']:>9.4f} {r['test']['iou_std']:>8.4f}"
        )
    return "\n".join(lines)


def _config(args: argparse.Namespace, name: str, schedule: DeviceSchedule) -> TrainConfig:
    fields = ("epochs", "input_scale", "batch_size", "lr", "limit", "val_limit", "seed")
    given = {f: getattr(args, f) for f in fields if getattr(args, f) is not None}
    config = default_config(name, **{**schedule.overrides.get(name, {}), **given})
    weights = None if args.encoder_weights == "none" else args.encoder_weights
    return dataclasses.replace(config, encoder_weights=weights)


def main(args: argparse.Namespace) -> None:
    resolved = resolve_device(args.device)
    device = str(resolved)
    schedule = device_schedule(resolved)
    names = _models(args.models) if args.models is not None else list(schedule.models)
    if args.threads:
        torch.set_num_threads(args.threads)
    fingerprint = dataset_fingerprint(args.data)
    print(
        f"dataset {args.data} (fingerprint {fingerprint}), device {describe_device(resolved)}, "
        f"{torch.get_num_threads()} CPU threads; default schedule: {schedule.measured}"
    )
    command = shlex.join(["python", *sys.argv])
    splits = load_splits(args.data)
    results: list[tuple[str, torch.nn.Module, dict]] = []
    if args.no_train:
        cached = {n: (m, i) for n, m, i in load_reference_models(args.cache_dir, fingerprint)}
        for name in names:
            if name in cached:
                results.append((name, *cached[name]))
            else:
                print(f"{name}: no checkpoint for this dataset in {args.cache_dir}")
                if args.summary:
                    print(model_summary(build_model(name)))
    else:
        for name in names:
            config = _config(args, name, schedule)
            weights, note = resolve_encoder_weights(
                name, config.encoder_weights, allow_download=not args.offline
            )
            print(note)
            model, info, trained = train_or_load(
                name, args.data, config, weights, args.cache_dir, device, args.force,
                progress=not args.no_progress, splits=splits, command=command,
            )  # fmt: skip
            print(f"{name}: {'trained, saved to' if trained else 'loaded'} {info['checkpoint']}")
            results.append((name, model, info))
    for name, model, _ in results:
        if args.summary:
            print(model_summary(model))
        if not args.no_figures:
            args.figures.mkdir(parents=True, exist_ok=True)
            test, out = splits["test"], args.figures / f"feature_maps_{name}.png"
            title = f"{name} feature maps, test image {test.names[0]}"
            segmenter_feature_maps_figure(model, test.images[0], title=title).savefig(out, dpi=120)
            print(f"{name}: feature maps -> {out}")
    if results:
        print()
        print(_table([info for _, _, info in results]))
        for name, _, info in results:
            print(f"{name}: trained with `{info.get('command') or '?'}` on {info['device']}")


if __name__ == "__main__":
    run(main, build_parser())
