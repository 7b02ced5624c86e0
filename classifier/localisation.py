"""How well a classifier's Grad-CAM localises the shape: the CAM argmax hit rate."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cam.methods import GradCAM
from classifier.model import default_target_layer
from metrics import points_inside
from shapes.dataset import SplitArrays
from shapes.transforms import normalize_uint8

BATCH_SIZE = 250  # images per Grad-CAM call in cam_argmax_hit_rate


def argmax_inside(heatmaps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """bool (N,): whether each map's first maximum (row-major, as ``cam_argmax`` picks it)
    lies inside its mask (:func:`metrics.points_inside`). ``heatmaps`` float (N, H, W),
    ``masks`` bool (N, H, W)."""
    if heatmaps.shape != masks.shape or heatmaps.ndim != 3:
        raise ValueError(
            f"heatmaps {heatmaps.shape} and masks {masks.shape} must both be (N, H, W)"
        )
    flat = heatmaps.reshape(len(heatmaps), -1).argmax(axis=1)
    ys, xs = np.unravel_index(flat, heatmaps.shape[1:])
    return points_inside(np.stack([xs, ys], axis=1)[:, None], masks)[:, 0]


def spread_subset(split: SplitArrays, n: int) -> SplitArrays:
    """At most ``n`` items of ``split`` at evenly spaced positions (all of them if ``n`` >= its
    length), so that a split stored class by class stays balanced."""
    if n >= len(split):
        return split
    return split.subset(np.linspace(0, len(split) - 1, n).round().astype(np.int64))


def cam_argmax_hit_rate(
    model: nn.Module, split: SplitArrays, device: torch.device | str = "cpu", bf16: bool = False
) -> float:
    """Share in [0, 1] of ``split``'s images (uint8 (N, H, W, 3), bool masks (N, H, W)) whose
    Grad-CAM argmax at ``layer2[-1]`` (top predicted class) falls inside the mask.

    The model runs in float32, or under bfloat16 autocast with ``bf16`` (the quicker estimate
    used during training). Its train/eval flags are restored afterwards (see ``cam.BaseCAM``).
    """
    device = torch.device(device)
    inside = []
    with GradCAM(model, [default_target_layer(model)]) as cam:
        for i in range(0, len(split), BATCH_SIZE):
            x = normalize_uint8(split.images[i : i + BATCH_SIZE]).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                maps = cam(x)
            inside.append(argmax_inside(maps, split.masks[i : i + BATCH_SIZE]))
    return float(np.concatenate(inside).mean())
