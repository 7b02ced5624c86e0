"""What ``scripts/benchmark_sam.py`` measures, the one-at-a-time path against the batched one
in the same run: SAM's image encoder (:func:`encoder_speed`) and the comparison's SAM step
(:func:`comparison_speed`), on :func:`benchmark_data`'s images.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from evaluation.compare import CompareConfig, segment_rows, select_strategies
from evaluation.predictions import Predictions
from evaluation.results import ComparisonResults
from sam_pipelines.batched_encoder import encode_images
from sam_pipelines.sam_backend import SamSegmenter


def benchmark_data(n: int, seed: int = 0) -> Predictions:
    """``n`` generated images (uint8 (n, 48, 64, 3)), their masks and classes, and stand-in
    CAMs: float32 (n, 48, 64) in 0..1, the true mask blurred (Gaussian, sigma 4 pixels)."""
    from skimage.filters import gaussian

    from shapes.backgrounds import load_backgrounds
    from shapes.generate import render

    bank = load_backgrounds("builtin", seed=seed)
    drawn = render(bank.test, n, np.random.default_rng(seed))
    images, classes, masks = drawn.images, drawn.labels, drawn.masks
    cams = np.stack([gaussian(m.astype(np.float32), sigma=4) for m in masks]).astype(np.float32)
    cams /= np.maximum(cams.reshape(n, -1).max(axis=1), 1e-6)[:, None, None]
    names = np.array([f"bench_{i:04d}.png" for i in range(n)])
    return Predictions(names, images, masks, classes, cams)


def timed(fn: Callable[[], Any], device: torch.device) -> tuple[float, Any]:
    """(seconds, result) of ``fn()``, with the device's queued work (CUDA) waited for before
    and after, so that the wall time is the work's."""
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    out = fn()
    if cuda:
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, out


@torch.no_grad()
def encoder_speed(
    model: Any, images: np.ndarray, batch_size: int, precision: str, device: torch.device
) -> list[dict[str, Any]]:
    """Images per second of ``SamPredictor.set_image`` (one image per call, float32) and of
    :func:`~sam_pipelines.batched_encoder.encode_images` (``batch_size`` per call): float32,
    and unless ``precision`` is ``float32`` also bfloat16 autocast, then bfloat16 with the
    attention through ``scaled_dot_product_attention`` (the comparison's path on CUDA), on
    uint8 ``images`` (N, H, W, 3); ``model`` is a ``Sam`` on ``device`` in eval mode.

    Returns:
        Rows with ``path``, ``images_per_s`` and, for bfloat16, ``max_dev_rel``: the largest
        deviation of its embeddings from float32's over their largest magnitude. The last row
        is the comparison's path.
    """
    from segment_anything import SamPredictor

    predictor = SamPredictor(model)
    predictor.set_image(images[0])  # warm-up
    seconds, _ = timed(lambda: [predictor.set_image(image) for image in images], device)
    rows = [{"path": "set_image, 1 image/call, float32", "images_per_s": len(images) / seconds}]
    variants = [(None, False, "float32")]
    if precision != "float32":
        variants += [
            (torch.bfloat16, False, "bfloat16 autocast"),
            (torch.bfloat16, True, "bfloat16 autocast, SDPA attention"),
        ]
    reference = None
    for autocast, sdpa, name in variants:
        encode_images(model, images[:batch_size], batch_size, autocast, sdpa)  # warm-up
        seconds, (features, _) = timed(
            lambda d=autocast, f=sdpa: encode_images(model, images, batch_size, d, f), device
        )
        row = {"path": f"batches of {batch_size}, {name}", "images_per_s": len(images) / seconds}
        if reference is None:
            reference = features
        else:
            row["max_dev_rel"] = float((features - reference).abs().max() / reference.abs().max())
        rows.append(row)
        del features
    return rows


def comparison_speed(
    make_segmenter: Callable[..., SamSegmenter],
    data: Predictions,
    base: CompareConfig,
    n_images: int,
    device: torch.device,
) -> dict[str, Any]:
    """:func:`evaluation.compare.segment_rows` with ``base``'s strategies, SAM batch size and
    precision on the first ``n_images`` images of ``data``: the per-prompt path (float32, no
    disk cache) against the batched one (a fresh disk cache), each with a fresh back end from
    ``make_segmenter`` (``precision``, ``cache_dir``).

    Returns:
        ``old`` and ``new`` (seconds, rows, the step's timing record), ``speedup`` (old / new),
        ``max_miou_diff``, ``rows_identical`` (rows whose masks all agree) and ``pixels_equal``
        (the smallest fraction of agreeing mask pixels over the rows).
    """
    names = select_strategies(base.strategies)
    arrays = (data.names, data.images, data.gt_masks, data.classes, data.cams)
    runs: dict[str, Any] = {}
    preds, mious = {}, {}
    with tempfile.TemporaryDirectory(prefix="sam_embeddings_") as folder:
        paths = {
            "old": (replace(base, sam_batched=False), {"precision": "float32"}),
            "new": (base, {"precision": base.sam_precision, "cache_dir": folder}),
        }
        for label, (compare, options) in paths.items():
            segmenter = make_segmenter(**options)
            fresh = Predictions(*(array[:n_images] for array in arrays))
            results = ComparisonResults({}, predictions=fresh)
            seconds, timing = timed(
                lambda s=segmenter, r=results, c=compare: segment_rows(r, s, names, c), device
            )
            runs[label] = {"seconds": seconds, "rows": len(results.rows), "timing": timing}
            preds[label] = fresh.pred
            mious[label] = {row["strategy"]: float(row["miou"]) for row in results.rows}
            del segmenter
    old, new = preds["old"], preds["new"]
    common = [name for name in old if name in new]
    pixels = [float((old[n] == new[n]).mean()) for n in common]
    return {
        **runs,
        "speedup": runs["old"]["seconds"] / runs["new"]["seconds"],
        "rows_compared": len(common),
        "max_miou_diff": max(abs(mious["old"][n] - mious["new"][n]) for n in common),
        "rows_identical": int(sum(np.array_equal(old[n], new[n]) for n in common)),
        "pixels_equal": min(pixels) if pixels else float("nan"),
    }
