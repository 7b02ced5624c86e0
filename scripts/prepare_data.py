"""Write the synthetic-shapes dataset in the course layout.

Examples::

    python scripts/prepare_data.py                                   # offline default
    python scripts/prepare_data.py --backgrounds ../shared/data/cifar10_subset.npz
    python scripts/prepare_data.py --backgrounds cifar10 --seed 1    # needs the internet
    python scripts/prepare_data.py --download                        # the course's own zip
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from shapes import dataset_fingerprint
from shapes.backgrounds import load_backgrounds
from shapes.download import download_course_dataset
from shapes.generate import GenerationConfig, generate_dataset


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
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--download", action="store_true", help="fetch the course's zip instead")
    return p


def main(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    if args.download:
        out = download_course_dataset(args.out)
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
    try:
        sys.exit(main(build_parser().parse_args()))
    except (FileExistsError, ValueError, RuntimeError) as exc:
        sys.exit(f"error: {exc}")
