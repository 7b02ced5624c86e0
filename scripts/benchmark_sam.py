"""Benchmark SAM, the one-at-a-time path against the batched one in the same run (see
``evaluation.sam_speed``): 1. the image encoder in images per second; 2. the comparison's SAM
step over ``--images`` images, with how far the two paths' masks and mean IoUs are apart.

Weights are random unless ``--checkpoint`` is given: timings are real, masks are not.
``--model-type tiny`` is a tiny random SAM, to check the script on a CPU. Examples::

    python scripts/benchmark_sam.py --device cuda                       # ViT-B, 500 images
    python scripts/benchmark_sam.py --device cuda --batch-size 32 --out bench_sam.json
    python scripts/benchmark_sam.py --device cpu --model-type tiny --images 8 --encoder-images 4
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from common.cli import positive_int, run, script_parser
from common.device import DEVICE_CHOICES, describe_device, resolve_device
from evaluation.compare import CompareConfig
from evaluation.sam_speed import benchmark_data, comparison_speed, encoder_speed
from sam_pipelines.sam_backend import PRECISIONS, SamSegmenter, resolve_precision

MODEL_TYPES = ("vit_b", "vit_l", "vit_h", "tiny")


def build_model(model_type: str, checkpoint: Path | None, device: torch.device):
    """SAM ``model_type`` with the checkpoint's weights, or random ones (seed 0), on ``device``."""
    torch.manual_seed(0)
    if model_type == "tiny":
        from sam_pipelines.tiny_sam import build_tiny_sam

        return build_tiny_sam().to(device).eval()
    from segment_anything import sam_model_registry

    return sam_model_registry[model_type](checkpoint=checkpoint).to(device).eval()


def main(args: argparse.Namespace) -> None:
    device = resolve_device(args.device)
    precision = resolve_precision(args.precision, device)
    settings = {  # saved with the numbers
        "device": describe_device(device),
        "model_type": args.model_type,
        "checkpoint": str(args.checkpoint) if args.checkpoint else None,
        "encoder_images": args.encoder_images,
        "batch_size": args.batch_size,
        "precision": precision,
        "images": args.images,
        "strategies": args.strategies,
        "seed": 0,  # benchmark_data's
    }
    model = build_model(args.model_type, args.checkpoint, device)
    weights = "checkpoint" if args.checkpoint else "random weights"
    print(f"SAM {args.model_type} ({weights}) on {settings['device']}, torch {torch.__version__}")

    data = benchmark_data(max(args.images, args.encoder_images))
    encoder_images = data.images[: args.encoder_images]
    encoder = encoder_speed(model, encoder_images, args.batch_size, precision, device)
    base = encoder[0]["images_per_s"]
    print(f"\n1. image encoder, {args.encoder_images} images of 48 x 64 (resized to the input):")
    for row in encoder:
        dev = row.get("max_dev_rel")
        dev_text = "" if dev is None else f"  max |dev from fp32| / max |fp32| = {dev:.4f}"
        ratio = row["images_per_s"] / base
        print(f"  {row['path']:<50} {row['images_per_s']:9.1f} img/s  {ratio:6.2f}x{dev_text}")
    print(
        f"  encoder ratio (the comparison's path, {encoder[-1]['path']}, / old): "
        f"{encoder[-1]['images_per_s'] / base:.2f}x"
    )

    def make_segmenter(precision: str, cache_dir: str | None = None) -> SamSegmenter:
        return SamSegmenter(
            model_type="vit_b" if args.model_type == "tiny" else args.model_type,
            model=model,
            model_id=f"benchmark-{args.model_type}-{weights}",
            device=device,
            precision=precision,
            cache_dir=cache_dir,
        )

    base = CompareConfig(
        strategies=tuple(args.strategies),
        sam_batch_size=args.batch_size,
        sam_precision=precision,
        supervised=False,
    )
    comparison = comparison_speed(make_segmenter, data, base, args.images, device)
    print(f"\n2. the comparison's SAM step, {args.images} images:")
    for label, name in (("old", "per-prompt, float32"), ("new", f"batched, {precision}")):
        step = comparison[label]
        timing = step["timing"]
        keys = [
            k for k in ("encoder_s", "strategies_s", "variants_s", "cache_flush_s") if k in timing
        ]
        parts = ", ".join(f"{k} {timing[k]:.1f} s" for k in keys)
        print(
            f"  {name:<40} {step['seconds']:8.1f} s for {step['rows']} rows ({parts}; "
            f"{timing.get('decoder_calls', '?')} decoder calls)"
        )
    print(f"  comparison ratio (old / new): {comparison['speedup']:.2f}x")
    print(
        f"  agreement over {comparison['rows_compared']} rows: {comparison['rows_identical']} "
        f"with identical masks, >= {comparison['pixels_equal']:.4%} of pixels equal in each, "
        f"largest |mean IoU difference| {comparison['max_miou_diff']:.5f}"
    )
    if args.out:
        record = {"settings": settings, "encoder": encoder, "comparison": comparison}
        args.out.write_text(json.dumps(record, indent=1, default=str))
        print(f"wrote {args.out}")


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("--device", default="auto", help=DEVICE_CHOICES)
    p.add_argument("--model-type", default="vit_b", choices=MODEL_TYPES)
    p.add_argument("--checkpoint", type=Path, default=None, help="weights (default: random)")
    p.add_argument("--images", type=positive_int, default=500, help="images of the comparison")
    p.add_argument("--encoder-images", type=positive_int, default=64, help="images of part 1")
    p.add_argument("--batch-size", type=positive_int, default=16, help="images per encoder call")
    p.add_argument("--precision", default="auto", choices=PRECISIONS, help="batched path")
    p.add_argument("--strategies", nargs="+", default=["*"], help="strategy names or wildcards")
    p.add_argument("--out", type=Path, default=None, help="also write the numbers as JSON")
    return p


if __name__ == "__main__":
    run(main, build_parser())
