"""SAM's image encoder on batches of images (``SamPredictor.set_image`` embeds one per call),
prepared exactly as ``set_image`` prepares one, optionally under bfloat16 autocast and with the
attention through ``scaled_dot_product_attention`` (:mod:`sam_pipelines.sdpa_attention`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from sam_pipelines.sdpa_attention import sdpa_attention

if TYPE_CHECKING:
    from segment_anything.modeling import Sam


def sam_inputs(model: Sam, images: np.ndarray) -> tuple[Tensor, tuple[int, int]]:
    """The encoder's input for a batch, prepared as ``SamPredictor.set_image`` prepares one image.

    The resizing (PIL, as ``set_image``) runs in threads, one image each; on CUDA the resized
    images go up from pinned memory without waiting for the GPU's queued work, so the next
    batch is prepared while the encoder still runs on this one.

    Args:
        model: a ``segment_anything`` ``Sam``.
        images: uint8 RGB (B, H, W, 3), all of one size.

    Returns:
        float32 (B, 3, S, S) on the model's device (S = the encoder's ``img_size``) and the
        resized size (h, w) before padding (``SamPredictor.input_size``).
    """
    from segment_anything.utils.transforms import ResizeLongestSide

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (B, H, W, 3), got {images.dtype} {images.shape}")
    transform = ResizeLongestSide(model.image_encoder.img_size)
    workers = min(len(images), os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:  # PIL lets go of the GIL while resizing
            resized = np.stack(list(pool.map(transform.apply_image, images)))
    else:
        resized = np.stack([transform.apply_image(image) for image in images])
    x = torch.from_numpy(resized)
    if model.device.type == "cuda":
        x = x.pin_memory().to(model.device, non_blocking=True)
    else:
        x = x.to(model.device)
    x = x.permute(0, 3, 1, 2).contiguous()
    return model.preprocess(x.float()), (int(resized.shape[1]), int(resized.shape[2]))


@torch.no_grad()
def encode_images(
    model: Sam,
    images: np.ndarray,
    batch_size: int = 16,
    autocast_dtype: torch.dtype | None = None,
    sdpa: bool = False,
) -> tuple[Tensor, tuple[int, int]]:
    """Image embeddings of ``images``, ``batch_size`` images per encoder call.

    Args:
        model: a ``segment_anything`` ``Sam`` in eval mode.
        images: uint8 RGB (B, H, W, 3), all of one size.
        batch_size: images per encoder call (>= 1).
        autocast_dtype: e.g. ``torch.bfloat16`` to run the encoder under ``torch.autocast``;
            None runs it in float32, like ``SamPredictor``.
        sdpa: the attention through ``scaled_dot_product_attention``
            (:func:`sam_pipelines.sdpa_attention.sdpa_attention`: equal up to rounding, no
            (heads, N, N) map; fused kernels on a GPU).

    Returns:
        float32 (B, C, h, w) embeddings on the model's device (ViT-B: C = 256, h = w = 64) and
        the resized input size (h, w) that ``SamPredictor.input_size`` would hold.
    """
    out: list[Tensor] = []
    input_size = (0, 0)
    with sdpa_attention(model.image_encoder) if sdpa else nullcontext():
        for start in range(0, len(images), batch_size):
            x, input_size = sam_inputs(model, images[start : start + batch_size])
            with torch.autocast(
                model.device.type,
                dtype=autocast_dtype or torch.float32,
                enabled=autocast_dtype is not None,
            ):
                features = model.image_encoder(x)
            out.append(features.float())
    return torch.cat(out), input_size
