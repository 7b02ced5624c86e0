"""Write the synthetic-shapes dataset in the course layout.

Examples::

    python scripts/prepare_data.py                                   # offline default
    python scripts/prepare_data.py --backgrounds ../shared/data/cifar10_subset.npz
    python scripts/prepare_data.py --backgrounds cifar10 --seed 1    # needs the internet
    python scripts/prepare_data.py --download                        # the course's own zip
    python scripts/prepare_data.py --out data/small --test 50 --overwrite

``--overwrite`` replaces only a folder this project wrote (it carries ``generation.json``),
never the working directory, one of its parents, the home folder or ``/``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common.cli import run
from common.errors import UserError
from shapes import dataset_fingerprint
from shapes.backgrounds import load_backgrounds
from shapes.download import download_course_dataset
from shapes.generate import GenerationConfig, check_output, generate_dataset


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--backgrounds",
        default="builtin",
        help="cifar10 | builtin | PATH (.npz or image folder); default: builtin",
    )
    p.add_argument("--out", type=Path, default=Path("data/synthetic_shapes"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train", type=int, default=3500, help="number of train images")
    p.add_argument("--val", type=int, default=1000, help="number of val images")
    p.add_argument("--test", type=int, default=500, help="number of test images")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --out that this project wrote (it has generation.json)",
    )
    p.add_argument("--download", action="store_true", help="fetch the course's zip instead")
    return p


def main(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    for name in ("train", "val", "test"):
        if getattr(args, name) < 0:
            raise UserError(f"--{name} must be >= 0, got {getattr(args, name)}")
    check_output(args.out, args.overwrite)  # before loading backgrounds or downloading
    if args.download:
        out = download_course_dataset(args.out, overwrite=args.overwrite)
    else:
        bank = load_backgrounds(args.backgrounds, cache_dir=args.out.parent, seed=args.seed)
        config = GenerationConfig(
            seed=args.seed, sizes={"train": args.train, "val": args.val, "test": args.test}
        )
        out = generate_dataset(args.out, bank, config, overwrite=args.overwrite)
    print(
        f"dataset at {out} (fingerprint {dataset_fingerprint(out)}), "
        f"{time.perf_counter() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    run(main, build_parser())
