"""Benchmark SAM's image encoder and mask decoder: today's one-at-a-time path against batches.

Encoder: ``SamPredictor.set_image`` (one image per call, float32) against
:func:`sam_pipelines.batched_encoder.encode_images` (batches, float32 and bfloat16 autocast), in
images per second, measured in the same run, with the bfloat16 embeddings' largest deviation
from float32. Decoder: K prompt sets of one image through ``SamPredictor.predict`` one by one
against one ``predict_torch`` call with all K (shorter sets padded with label -1, which SAM
ignores). Weights are random unless ``--checkpoint`` is given: timings are real, masks are not.
Examples::

    python scripts/benchmark_sam.py --device cuda --images 256 --batch-sizes 8 16 32
    python scripts/benchmark_sam.py --device cpu --images 4 --batch-sizes 2 --model-type vit_b
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from common.cli import positive_int, run
from sam_pipelines.batched_encoder import encode_images


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _timed(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def _images(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 48, 64, 3), dtype=np.uint8)
    images[:, 10:30, 20:40] = (230, 40, 40)
    return images


def _prompt_sets(k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """K prompt sets of one or two points (fg, fg+bg), as the comparison's strategies send."""
    rng = np.random.default_rng(seed)
    sets = []
    for i in range(k):
        n = 1 + i % 2
        coords = rng.integers(0, (64, 48), (n, 2)) + 0.5
        sets.append((coords, np.array([1, 0][:n])))
    return sets


def benchmark_encoder(model, images: np.ndarray, batch_sizes: list[int], device) -> list[dict]:
    """Images per second of each encoder path (the first row is today's)."""
    from segment_anything import SamPredictor

    predictor = SamPredictor(model)
    predictor.set_image(images[0])  # warm-up
    rows = []
    seconds = _timed(lambda: [predictor.set_image(img) for img in images], device)
    rows.append({"path": "set_image, 1 image/call, float32", "images_per_s": len(images) / seconds})
    reference, _ = encode_images(model, images[: batch_sizes[0]], batch_sizes[0])
    for dtype in (None, torch.bfloat16):
        for bs in batch_sizes:
            encode_images(model, images[:bs], bs, dtype)  # warm-up at this shape
            seconds = _timed(lambda b=bs, d=dtype: encode_images(model, images, b, d), device)
            row = {
                "path": f"batches of {bs}, {'bfloat16 autocast' if dtype else 'float32'}",
                "images_per_s": len(images) / seconds,
            }
            if dtype is not None:
                half, _ = encode_images(model, images[: batch_sizes[0]], batch_sizes[0], dtype)
                row["max_dev_rel"] = float((half - reference).abs().max() / reference.abs().max())
            rows.append(row)
    return rows


def benchmark_decoder(model, image: np.ndarray, k: int, repeats: int, device) -> list[dict]:
    """Prompt sets per second: K ``predict`` calls against one ``predict_torch`` call."""
    from segment_anything import SamPredictor

    predictor = SamPredictor(model)
    predictor.set_image(image)
    sets = _prompt_sets(k)
    width = max(len(c) for c, _ in sets)
    coords = np.zeros((k, width, 2))
    labels = -np.ones((k, width))
    for i, (c, lab) in enumerate(sets):
        coords[i, : len(c)], labels[i, : len(c)] = c, lab
    coords_t = torch.as_tensor(
        predictor.transform.apply_coords(coords, predictor.original_size), device=device
    ).float()
    labels_t = torch.as_tensor(labels, device=device)

    def one_by_one() -> None:
        for c, lab in sets:
            predictor.predict(c, lab, multimask_output=True)

    def batched() -> None:
        predictor.predict_torch(coords_t, labels_t, multimask_output=True)

    rows = []
    for name, fn in (
        ("predict, 1 prompt set/call", one_by_one),
        ("predict_torch, K sets", batched),
    ):
        fn()
        seconds = _timed(lambda f=fn: [f() for _ in range(repeats)], device)
        rows.append({"path": f"{name} (K={k})", "sets_per_s": k * repeats / seconds})
    return rows


def main(args: argparse.Namespace) -> int:
    from segment_anything import sam_model_registry

    device = _device(args.device)
    torch.manual_seed(0)
    model = sam_model_registry[args.model_type](checkpoint=args.checkpoint).to(device).eval()
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(
        f"SAM {args.model_type} ({'checkpoint' if args.checkpoint else 'random weights'}) "
        f"on {gpu}, torch {torch.__version__}"
    )
    images = _images(args.images)
    encoder = benchmark_encoder(model, images, args.batch_sizes, device)
    base = encoder[0]["images_per_s"]
    print(f"\nimage encoder, {args.images} images of 48 x 64 (resized to 1024):")
    for row in encoder:
        dev = (
            f"  max |bf16 - fp32| / max |fp32| = {row['max_dev_rel']:.4f}"
            if "max_dev_rel" in row
            else ""
        )
        print(
            f"  {row['path']:<40} {row['images_per_s']:8.1f} img/s  "
            f"{row['images_per_s'] / base:5.2f}x{dev}"
        )
    decoder = benchmark_decoder(model, images[0], args.prompt_sets, args.repeats, device)
    print(f"\nmask decoder, {args.prompt_sets} prompt sets of one image:")
    for row in decoder:
        ratio = row["sets_per_s"] / decoder[0]["sets_per_s"]
        print(f"  {row['path']:<40} {row['sets_per_s']:8.1f} sets/s  {ratio:5.2f}x")
    if args.out:
        settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        record = {"settings": settings, "device": gpu, "encoder": encoder, "decoder": decoder}
        args.out.write_text(json.dumps(record, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cuda or cpu")
    p.add_argument("--model-type", default="vit_b", choices=("vit_b", "vit_l", "vit_h"))
    p.add_argument("--checkpoint", type=Path, default=None, help="weights (default: random)")
    p.add_argument("--images", type=positive_int, default=128)
    p.add_argument("--batch-sizes", type=positive_int, nargs="+", default=[8, 16, 32])
    p.add_argument("--prompt-sets", type=positive_int, default=21, help="K, per image")
    p.add_argument("--repeats", type=positive_int, default=20)
    p.add_argument("--out", type=Path, default=None, help="also write the numbers as JSON")
    return p


if __name__ == "__main__":
    run(main, build_parser())
