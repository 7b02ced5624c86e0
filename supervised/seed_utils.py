"""The seed assignment's small utilities: sigmoid, softmax, masking an image, IoU.

The activations are torch's own (the tests check them against the formulas); the IoUs
delegate to :mod:`metrics` so the supervised models are scored exactly like the SAM pipelines.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from metrics import iou_per_image
from supervised.models import predict_masks


def sigmoid(x: Tensor) -> Tensor:
    """Element-wise logistic function 1 / (1 + exp(-x)), any shape, same shape out."""
    return torch.sigmoid(x)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (default: the last axis); same shape out."""
    return torch.softmax(x, dim=dim)


def apply_mask_to_image(
    image: np.ndarray, mask: np.ndarray, background: int | tuple[int, int, int] = 0
) -> np.ndarray:
    """The image where the mask is set and ``background`` elsewhere, for display.

    Args:
        image: uint8 RGB (H, W, 3).
        mask: (H, W), bool or 0/1 (a trailing or leading singleton axis is accepted).
        background: grey level or RGB triple for pixels outside the mask.

    Returns:
        uint8 (H, W, 3), a new array.
    """
    image = np.asarray(image)
    mask = np.squeeze(np.asarray(mask))
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
    if mask.shape != image.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} does not match image size {image.shape[:2]}")
    fill = np.broadcast_to(np.asarray(background, dtype=np.uint8), (3,))
    return np.where(mask.astype(bool)[..., None], image, fill).astype(np.uint8)


def mask_iou(pred: np.ndarray, target: np.ndarray) -> float:
    """IoU of two bool (H, W) masks, with :func:`metrics.iou_per_image`'s conventions."""
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.ndim != 2:
        raise ValueError(f"pred must be (H, W), got shape {pred.shape}")
    return float(iou_per_image(pred[None], target[None])[0])


def dataset_iou(
    model: nn.Module, images: np.ndarray, masks: np.ndarray, batch_size: int = 64
) -> np.ndarray:
    """Per-image IoU of ``model``'s predictions over a dataset (the seed's ``applyIoU``).

    Args:
        model: a model from :func:`supervised.build_model`.
        images: uint8 RGB (N, H, W, 3).
        masks: bool (N, H, W) ground truth.
        batch_size: images per forward pass.

    Returns:
        float64 (N,); ``.mean()`` is the mean IoU.
    """
    return iou_per_image(predict_masks(model, images, batch_size=batch_size), masks)
