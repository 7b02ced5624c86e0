"""Compare every registered point-prompt strategy: points, masks and the LaTeX table.

Examples::

    python scripts/compare_strategies.py                       # everything, offline defaults
    python scripts/compare_strategies.py --list                # strategies and segmenters
    python scripts/compare_strategies.py --data data/bench --strategies 'cam_*' oracle_*
    python scripts/compare_strategies.py --segmenter sam --sam-checkpoint sam_vit_b_01ec64.pth
    python scripts/compare_strategies.py --limit 50 --out runs/quick
    python scripts/compare_strategies.py --data data/other --generate      # make it first
    python scripts/compare_strategies.py --data data/test_only --classifier-checkpoint ck.pt
    python scripts/compare_strategies.py --segmenter sam --device cuda --sam-batch-size 32
    python scripts/compare_strategies.py --clear-embedding-cache      # free the disk, then exit

--device auto (the default) uses CUDA when available, else the CPU; the device used is printed
and saved in metrics.json (settings.device). With SAM, the image encoder runs first over
batches of images (a progress bar with ETA; bfloat16 autocast on CUDA with --sam-precision
auto, float32 on the CPU) and its embeddings persist in <--cache-dir>/sam_embeddings, so a
rerun over the same images with other strategies skips it; all the prompt sets of one image
then go through the mask decoder together (--no-sam-batched: the old per-prompt path).

Writes metrics.json (settings + rows), metrics.csv, per_image.csv, metrics.tex and
predictions.npz into --out (all together, or none on a failure) and prints the table. The
options, --out and the dataset's files are checked before anything is trained or computed.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from common.cli import positive_int, run, script_parser
from common.device import DEVICE_CHOICES
from evaluation.compare import CAM_METHODS, CompareConfig, embedding_cache_dir, run_comparison
from evaluation.results import save_results
from evaluation.tables import text_table
from prompting import get_strategy, list_strategies
from sam_pipelines import SEGMENTERS
from sam_pipelines.embedding_cache import clear_embedding_cache
from sam_pipelines.sam_backend import PRECISIONS

DEFAULTS = CompareConfig()
SELECTION_HELP = "how to pick among the segmenter's candidate masks"
#: The on/off options (``--x`` / ``--no-x``).
SWITCHES = {
    "generate": "generate a dataset at --data (with --backgrounds) when it does not exist",
    "refine": "feed the chosen mask's logits back once as mask_input",
    "variants": "also measure the mask-selection and refinement options on the best strategies",
    "supervised": "add rows for the trained supervised reference models (when they exist)",
    "sam_batched": "SAM: encode batches of images first, then send all of one image's prompt "
    "sets through the decoder together (off: one image / one prompt set per call)",
    "embedding_cache": "SAM: keep image embeddings on disk in <--cache-dir>/sam_embeddings",
}


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("--list", action="store_true", help="print the registries and exit")
    # the data
    data = "dataset folder in the course layout; only the default location is generated when "
    data += "missing (elsewhere pass --generate)"
    p.add_argument("--data", type=Path, default=DEFAULTS.data, help=data)
    p.add_argument("--backgrounds", default=DEFAULTS.backgrounds, help="for a generated --data")
    p.add_argument("--seed", type=int, default=DEFAULTS.seed, help="torch and generation seed")
    p.add_argument("--split", default=DEFAULTS.split, help="train, val or test")
    p.add_argument("--limit", type=int, default=DEFAULTS.limit, help="only the first N images")
    # the method
    names = "strategy names or wildcards (see --list)"
    p.add_argument("--strategies", nargs="+", default=list(DEFAULTS.strategies), help=names)
    segmenter = "auto, sam or a classical one (see --list)"
    p.add_argument("--segmenter", default=DEFAULTS.segmenter, help=segmenter)
    p.add_argument("--sam-checkpoint", type=Path, default=None, help="SAM weights file")
    p.add_argument("--sam-model-type", default=DEFAULTS.sam_model_type, help="SAM variant")
    p.add_argument("--cam-method", default=DEFAULTS.cam_method, help=", ".join(CAM_METHODS))
    p.add_argument("--target-layer", default=DEFAULTS.target_layer, help="CAM layer, e.g. layer1")
    p.add_argument("--mask-selection", default=DEFAULTS.mask_selection, help=SELECTION_HELP)
    p.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help="CAM batch size")
    p.add_argument("--device", default=DEFAULTS.device, help=DEVICE_CHOICES)
    encoder_batch = "images per SAM image-encoder call (batched path)"
    sam_batch = DEFAULTS.sam_batch_size
    p.add_argument("--sam-batch-size", type=positive_int, default=sam_batch, help=encoder_batch)
    precision = "SAM image encoder: auto = bfloat16 autocast on CUDA, float32 on the CPU"
    p.add_argument(
        "--sam-precision", default=DEFAULTS.sam_precision, choices=PRECISIONS, help=precision
    )
    cap = "size cap of the SAM embedding cache folder (least recently used files go first)"
    p.add_argument(
        "--embedding-cache-gib", type=float, default=DEFAULTS.embedding_cache_gib, help=cap
    )
    clear = "delete the cached SAM embeddings in <--cache-dir>/sam_embeddings and exit"
    p.add_argument("--clear-embedding-cache", action="store_true", help=clear)
    # the classifier
    preset = "classifier training recipe (see scripts/train_classifier.py)"
    p.add_argument("--classifier-preset", default=DEFAULTS.classifier_preset, help=preset)
    checkpoint = "use this cached classifier checkpoint (.pt with its .json) instead of the "
    checkpoint += "preset's; it must have been trained on --data"
    p.add_argument("--classifier-checkpoint", type=Path, help=checkpoint)
    # where things go
    p.add_argument("--out", type=Path, default=DEFAULTS.out, help="output folder")
    p.add_argument(
        "--cache-dir", type=Path, default=DEFAULTS.cache_dir, help="CAM and embedding caches"
    )
    p.add_argument("--checkpoints", type=Path, default=DEFAULTS.checkpoints, help="model cache")
    for name, text in SWITCHES.items():
        switch = argparse.BooleanOptionalAction
        flag, default = f"--{name.replace('_', '-')}", getattr(DEFAULTS, name)
        p.add_argument(flag, action=switch, default=default, help=text)
    return p


def main(args: argparse.Namespace) -> int:
    if args.list:
        print("strategies:")
        for name in list_strategies():
            s = get_strategy(name)
            print(f"  {name:<24} {s.kind:<7} {s.description}")
        print("segmenters:")
        for name, entry in SEGMENTERS.items():
            print(f"  {name:<24} {entry.description}")
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
