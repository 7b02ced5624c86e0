"""SAM's image encoder on batches of images (``SamPredictor.set_image`` embeds one per call),
prepared exactly as ``set_image`` prepares one, optionally under bfloat16 autocast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    from segment_anything.modeling import Sam


def sam_inputs(model: Sam, images: np.ndarray) -> tuple[Tensor, tuple[int, int]]:
    """The encoder's input for a batch, prepared as ``SamPredictor.set_image`` prepares one image.

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
    resized = np.stack([transform.apply_image(image) for image in images])
    x = torch.as_tensor(resized, device=model.device).permute(0, 3, 1, 2).contiguous()
    return model.preprocess(x.float()), (int(resized.shape[1]), int(resized.shape[2]))


@torch.no_grad()
def encode_images(
    model: Sam,
    images: np.ndarray,
    batch_size: int = 16,
    autocast_dtype: torch.dtype | None = None,
) -> tuple[Tensor, tuple[int, int]]:
    """Image embeddings of ``images``, ``batch_size`` images per encoder call.

    Args:
        model: a ``segment_anything`` ``Sam`` in eval mode.
        images: uint8 RGB (B, H, W, 3), all of one size.
        batch_size: images per encoder call (>= 1).
        autocast_dtype: e.g. ``torch.bfloat16`` to run the encoder under ``torch.autocast``;
            None runs it in float32, like ``SamPredictor``.

    Returns:
        float32 (B, C, h, w) embeddings on the model's device (ViT-B: C = 256, h = w = 64) and
        the resized input size (h, w) that ``SamPredictor.input_size`` would hold.
    """
    out: list[Tensor] = []
    input_size = (0, 0)
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
