"""Write the synthetic-shapes dataset in the course layout.

Examples::

    python scripts/prepare_data.py                                   # offline default
    python scripts/prepare_data.py --backgrounds ../shared/data/cifar10_subset.npz
    python scripts/prepare_data.py --backgrounds cifar10 --seed 1    # needs the internet
    python scripts/prepare_data.py --download                        # the course's own zip
    python scripts/prepare_data.py --out data/small --test 50 --overwrite
    python scripts/prepare_data.py --preset translucent --out data/stress/translucent
    python scripts/prepare_data.py --alpha-range 0.2 0.5 --opaque-prob 0 --out data/faint

Stress presets (--preset; an explicit style option overrides the preset's value):
{presets}

``--overwrite`` never replaces the working directory, one of its parents, home or ``/``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common.cli import run, script_parser
from common.errors import UserError
from shapes import dataset_fingerprint
from shapes.backgrounds import load_backgrounds
from shapes.classes import SPLIT_SIZES
from shapes.download import download_course_dataset
from shapes.draw import StyleError
from shapes.generate import GenerationConfig, check_output, generate_dataset
from shapes.stress import CONTRAST_OPTIONS, STRESS_PRESETS, STYLE_OPTIONS, resolve_styles

__doc__ = __doc__.format(
    presets="\n".join(f"  {name:13s} {p.description}" for name, p in STRESS_PRESETS.items())
)


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    backgrounds = "cifar10 | builtin | PATH (.npz or image folder)"
    p.add_argument("--backgrounds", default="builtin", help=backgrounds)
    p.add_argument("--out", type=Path, default=Path("data/synthetic_shapes"), help="dataset folder")
    p.add_argument("--seed", type=int, default=0)
    for split, size in SPLIT_SIZES.items():
        p.add_argument(f"--{split}", type=int, default=size, help=f"number of {split} images")
    overwrite = "replace an existing --out that this project wrote (it has generation.json)"
    p.add_argument("--overwrite", action="store_true", help=overwrite)
    p.add_argument("--download", action="store_true", help="fetch the course's zip instead")
    g = p.add_argument_group("harder variants (default: like the real data; see shapes/stress.py)")
    g.add_argument("--preset", choices=sorted(STRESS_PRESETS), help="a stress-suite dataset")
    for name, what in (("size", "shape size, px (8 20)"), ("alpha", "opacity (0.45 1)")):
        g.add_argument(f"--{name}-range", nargs=2, type=float, metavar=("LO", "HI"), help=what)
    numbers = {
        "opaque-prob": "share of fully opaque shapes (0.25)",
        "background-contrast": "background contrast about its mean colour: 0 flat, 1 as is (1)",
        "background-texture": "std of per-pixel noise added to the background, grey levels (0)",
        "colour-offset": "draw the shape colour within +-this of the background under it (any)",
    }
    for flag, what in numbers.items():
        g.add_argument(f"--{flag}", type=float, help=what)
    return p


def generation_config(args: argparse.Namespace) -> GenerationConfig:
    """The :class:`GenerationConfig` of the options (styles checked, errors name the option)."""
    fields = STYLE_OPTIONS + CONTRAST_OPTIONS
    try:
        style, contrast = resolve_styles(args.preset, **{f: getattr(args, f) for f in fields})
    except StyleError as exc:
        raise UserError(f"--{exc.field.replace('_', '-')}: {exc}") from exc
    return GenerationConfig(
        seed=args.seed,
        sizes={split: getattr(args, split) for split in SPLIT_SIZES},
        style=style,
        contrast=contrast,
        preset=args.preset,
    )


def main(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    for name in SPLIT_SIZES:
        if getattr(args, name) < 0:
            raise UserError(f"--{name} must be >= 0, got {getattr(args, name)}")
    config = generation_config(args)
    check_output(args.out, args.overwrite)  # before loading backgrounds or downloading
    if args.download:
        if config != GenerationConfig(seed=args.seed, sizes=config.sizes):
            raise UserError("--download fetches the course's data: drop the style options")
        out = download_course_dataset(args.out, overwrite=args.overwrite)
    else:
        bank = load_backgrounds(args.backgrounds, cache_dir=args.out.parent, seed=args.seed)
        out = generate_dataset(args.out, bank, config, overwrite=args.overwrite)
    print(
        f"dataset at {out} (fingerprint {dataset_fingerprint(out)}), "
        f"{time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    run(main, build_parser())
