"""Compare every registered point-prompt strategy: points, masks and the LaTeX table.

Examples::

    python scripts/compare_strategies.py                       # everything, offline defaults
    python scripts/compare_strategies.py --list                # strategies and segmenters
    python scripts/compare_strategies.py --data data/bench --strategies 'cam_*' oracle_*
    python scripts/compare_strategies.py --segmenter sam --sam-checkpoint sam_vit_b_01ec64.pth
    python scripts/compare_strategies.py --limit 50 --out runs/quick
    python scripts/compare_strategies.py --data data/other --generate      # make it first
    python scripts/compare_strategies.py --data data/test_only --classifier-checkpoint ck.pt
    python scripts/compare_strategies.py --data data/draw1/bench --classifier-data data/bench
    python scripts/compare_strategies.py --segmenter sam --device cuda --sam-batch-size 32
    python scripts/compare_strategies.py --clear-embedding-cache      # free the disk, then exit

Writes metrics.json (settings + rows), metrics.csv, per_image.csv, metrics.tex and
predictions.npz into --out (all together, or none on a failure) and prints the table. The
options, --out and the dataset's files are checked before anything is trained or computed.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from common.cli import positive_int, run, script_parser
from common.device import DEVICE_CHOICES
from evaluation.compare import (
    CAM_AUG_SMOOTH_HELP,
    CAM_METHODS,
    CompareConfig,
    embedding_cache_dir,
    run_comparison,
)
from evaluation.results import save_results
from evaluation.tables import text_table
from prompting import get_strategy, list_strategies
from sam_pipelines import SEGMENTERS
from sam_pipelines.embedding_cache import clear_embedding_cache
from sam_pipelines.sam_backend import PRECISIONS

DEFAULTS = CompareConfig()
#: The on/off options (``--x`` / ``--no-x``).
SWITCHES = {
    "generate": "generate a dataset at --data (with --backgrounds) when it does not exist",
    "cam_aug_smooth": CAM_AUG_SMOOTH_HELP,
    "refine": "feed the chosen mask's logits back once as mask_input",
    "variants": "also measure the mask-selection and refinement options on the best strategies",
    "supervised": "add rows for the trained supervised reference models (when they exist)",
    "sam_batched": "SAM: encode batches of images first, then send all of one image's prompt "
    "sets through the decoder together (off: one image / one prompt set per call)",
    "embedding_cache": "SAM: keep image embeddings on disk in <--cache-dir>/sam_embeddings",
}


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)

    def option(flag: str, text: str, **kwargs: Any) -> None:
        """``flag`` with CompareConfig's default for the field of the same name."""
        kwargs.setdefault("default", getattr(DEFAULTS, flag[2:].replace("-", "_")))
        p.add_argument(flag, help=text, **kwargs)

    p.add_argument("--list", action="store_true", help="print the registries and exit")
    data = "dataset folder in the course layout; only the default location is generated when "
    option("--data", data + "missing (elsewhere pass --generate)", type=Path)
    option("--backgrounds", "for a generated --data")
    option("--seed", "torch and generation seed", type=int)
    option("--split", "train, val or test")
    option("--limit", "only the first N images", type=int)
    strategies = "strategy names or wildcards (see --list)"
    option("--strategies", strategies, nargs="+", default=list(DEFAULTS.strategies))
    option("--segmenter", "auto, sam or a classical one (see --list)")
    option("--sam-checkpoint", "SAM weights file", type=Path)
    option("--sam-model-type", "SAM variant")
    option("--cam-method", "heat map: " + ", ".join(CAM_METHODS) + " (gradcam: the assignment's)")
    offset = (
        "move the maps back by the classifier's offset: auto (measured on 300 val images, "
        "no masks read), none, or DX,DY in px"
    )
    option("--heat-offset", offset)
    option("--target-layer", "CAM layer, e.g. layer1")
    option("--mask-selection", "how to pick among the segmenter's candidate masks")
    option("--batch-size", "CAM batch size", type=int)
    option("--device", DEVICE_CHOICES)
    option(
        "--sam-batch-size",
        "images per SAM encoder call, and whose prompts are decoded together (batched path)",
        type=positive_int,
    )
    precision = (
        "SAM image encoder: auto = bfloat16 autocast on a GPU with native bfloat16 (compute "
        "capability 8.0 or newer), else float32"
    )
    option("--sam-precision", precision, choices=PRECISIONS)
    option("--embedding-cache-gib", "size cap of the SAM embedding cache (LRU)", type=float)
    clear = "delete the cached SAM embeddings in <--cache-dir>/sam_embeddings and exit"
    p.add_argument("--clear-embedding-cache", action="store_true", help=clear)
    option("--classifier-preset", "classifier training recipe (see scripts/train_classifier.py)")
    checkpoint = "a cached classifier checkpoint (.pt + .json) trained on --data, not the preset's"
    option("--classifier-checkpoint", checkpoint, type=Path)
    other = (
        "the preset's classifier of this dataset (trained there, or from the cache) instead of "
        "--data's: e.g. for a fresh test-only draw of the same distribution"
    )
    option("--classifier-data", other, type=Path)
    option("--out", "output folder", type=Path)
    option("--cache-dir", "CAM and embedding caches", type=Path)
    option("--checkpoints", "model cache", type=Path)
    for name, text in SWITCHES.items():
        option(f"--{name.replace('_', '-')}", text, action=argparse.BooleanOptionalAction)
    return p


def main(args: argparse.Namespace) -> int:
    if args.list:
        names = list_strategies()
        width = max(len(n) for n in [*names, *SEGMENTERS])
        print("strategies (name, kind, family: what it reads, description):")
        for name in names:
            s = get_strategy(name)
            print(f"  {name:<{width}} {s.kind:<7} {s.family:<9} {s.description}")
        print("segmenters:")
        for name, entry in SEGMENTERS.items():
            print(f"  {name:<{width}} {entry.description}")
        return 0
    if args.clear_embedding_cache:
        folder = embedding_cache_dir(args.cache_dir)
        files, freed = clear_embedding_cache(folder)
        print(f"cleared {folder}: {files} file(s), {freed / 2**20:.1f} MiB")
        return 0
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(CompareConfig)}
    config = CompareConfig(**{**values, "strategies": tuple(values["strategies"])})
    results = run_comparison(config)
    dataset = results.settings["dataset"]
    caption = (
        f"Point prompts and masks on the {config.split} split ({dataset['n_images']} images, "
        f"{dataset['path']}); segmenter: {results.settings['segmenter']}."
    )
    paths = save_results(config.out, results, caption)
    print(text_table(results.rows, caption))
    print(f"device: {results.settings['device']}")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


if __name__ == "__main__":
    run(main, build_parser())
