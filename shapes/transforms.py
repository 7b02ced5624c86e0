"""ImageNet normalisation used by the template, and its inverse to uint8 RGB."""

from __future__ import annotations

from typing import Final

import numpy as np
import torch
from torch import Tensor
from torchvision.transforms import v2

IMAGENET_MEAN: Final[tuple[float, float, float]] = (0.485, 0.456, 0.406)
IMAGENET_STD: Final[tuple[float, float, float]] = (0.229, 0.224, 0.225)
_MEAN = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)  # broadcast over (B, 3, H, W)
_STD = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def imagenet_transform() -> v2.Compose:
    """The template's transform: PIL RGB image -> float32 tensor (3, H, W), ImageNet-normalised."""
    return v2.Compose(
        [
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def normalize_uint8(images: np.ndarray) -> Tensor:
    """uint8 RGB images (B, H, W, 3) -> normalised float32 tensor (B, 3, H, W)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    return (x - _MEAN) / _STD


def to_uint8_images(images: Tensor) -> np.ndarray:
    """Undo the ImageNet normalisation of a float tensor (B, 3, H, W) (or (3, H, W)) on any
    device: uint8 numpy (B, H, W, 3) (or (H, W, 3)) RGB, values rounded and clipped."""
    single = images.ndim == 3
    x = images.detach().float().cpu()
    if single:
        x = x.unsqueeze(0)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected images of shape (B, 3, H, W), got {tuple(images.shape)}")
    x = (x * _STD + _MEAN).mul_(255.0).round_().clamp_(0, 255).to(torch.uint8)
    out = x.permute(0, 2, 3, 1).contiguous().numpy()
    return out[0] if single else out
