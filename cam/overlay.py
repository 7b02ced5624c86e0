"""Colouring heat maps and blending them over images (numpy + cv2, no matplotlib)."""

from __future__ import annotations

import cv2
import numpy as np


def heatmap_to_rgb(heatmap: np.ndarray) -> np.ndarray:
    """uint8 RGB (H, W, 3) or (N, H, W, 3): float heat maps (H, W) or (N, H, W) coloured with
    OpenCV's JET colour map, as the template's ``heatmap_to_rgb_image(heat, 0, 1)``: 0 is blue,
    1 red, values outside 0..1 are clipped."""
    heat = np.asarray(heatmap, dtype=np.float32)
    if heat.ndim not in (2, 3):
        raise ValueError(f"heatmap must have shape (H, W) or (N, H, W), got {heat.shape}")
    gray = (np.clip(heat, 0.0, 1.0) * 255).astype(np.uint8)
    flat = gray.reshape(-1, gray.shape[-1])  # cv2 colours 2-D arrays; stack images vertically
    rgb = cv2.cvtColor(cv2.applyColorMap(flat, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return rgb.reshape(*gray.shape, 3)


def overlay_heatmap(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.3) -> np.ndarray:
    """``(1 - alpha) * image + alpha * colour``: a float (H, W) or (N, H, W) heat map in 0..1,
    coloured with `heatmap_to_rgb`, blended over a uint8 RGB (H, W, 3) or (N, H, W, 3) image;
    uint8 of the image's shape. Same as the template's ``PIL.Image.blend(image, heatmap_rgb,
    alpha=0.3)``."""
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.shape[-1] != 3 or img.ndim not in (3, 4):
        raise ValueError(
            f"image must be uint8 (H, W, 3) or (N, H, W, 3), got {img.dtype} {img.shape}"
        )
    if np.shape(heatmap) != img.shape[:-1]:
        raise ValueError(
            f"heatmap shape {np.shape(heatmap)} does not match image shape {img.shape[:-1]}"
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in 0..1, got {alpha}")
    colour = heatmap_to_rgb(heatmap).astype(np.float32)
    blended = (1.0 - alpha) * img.astype(np.float32) + alpha * colour
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
