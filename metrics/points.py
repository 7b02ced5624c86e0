"""Point-prompt metrics: foreground hit rate, background correctness, distance to the mask centre.

Conventions (shared with ``prompting``): a point is (X, Y) in pixels and addresses
``mask[Y, X]`` (pixel centres at integer coordinates); a mask's centre of mass is the mean
(x, y) of its True pixels. Labels 1 (foreground) and 0 (background) are scored separately by
hit rate (share inside the mask) and distance to the centre of mass. An empty mask has every
point outside and a NaN centre, left out of the distance statistics. Shapes: coords int
(B, N, 2), labels int (B, N), masks bool (B, H, W); points lie inside the image.
"""

from __future__ import annotations

import numpy as np


def _checked(coords, labels, masks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three as arrays (masks bool), once their shapes and the points' range are checked."""
    coords, labels, masks = np.asarray(coords), np.asarray(labels), np.asarray(masks, dtype=bool)
    if masks.ndim != 3:
        raise ValueError(f"masks must be (B, H, W), got shape {masks.shape}")
    if coords.ndim != 3 or coords.shape[-1] != 2 or coords.shape[0] != masks.shape[0]:
        raise ValueError(f"coords must be (B, N, 2) with B={masks.shape[0]}, got {coords.shape}")
    if labels.shape != coords.shape[:2]:
        raise ValueError(f"labels must be (B, N) = {coords.shape[:2]}, got {labels.shape}")
    h, w = masks.shape[1:]
    x, y = coords[..., 0], coords[..., 1]
    if coords.size and ((x < 0).any() or (x >= w).any() or (y < 0).any() or (y >= h).any()):
        raise ValueError(f"some points lie outside the {h}x{w} images")
    return coords, labels, masks


def points_inside(coords: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """bool (B, N): whether each point (X, Y) lands on a True pixel ``masks[b, Y, X]``."""
    coords = np.asarray(coords, dtype=np.int64)
    masks = np.asarray(masks, dtype=bool)
    b = np.arange(coords.shape[0])[:, None]
    return masks[b, coords[..., 1], coords[..., 0]]


def hit_rate(coords: np.ndarray, labels: np.ndarray, masks: np.ndarray, label: int) -> float | None:
    """Share of the points with ``label`` (1 foreground, 0 background) that land inside the
    ground-truth mask (high is good for foreground points); None if there are no such points."""
    coords, labels, masks = _checked(coords, labels, masks)
    chosen = labels == label
    if not chosen.any():
        return None
    return float(points_inside(coords, masks)[chosen].mean())


def mask_centers(masks: np.ndarray) -> np.ndarray:
    """float64 (B, 2): each mask's centre of mass (x, y); NaN for an empty mask."""
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 3:
        raise ValueError(f"masks must be (B, H, W), got shape {masks.shape}")
    _, h, w = masks.shape
    area = masks.sum(axis=(1, 2)).astype(np.float64)
    sx = (masks.sum(axis=1) * np.arange(w)).sum(axis=1)
    sy = (masks.sum(axis=2) * np.arange(h)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.stack([sx / area, sy / area], axis=1)


def point_distances(coords: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """float64 (B, N): Euclidean pixel distance of each point (X, Y) to its mask's centre of
    mass; NaN where the mask is empty."""
    centers = mask_centers(masks)
    diff = np.asarray(coords, dtype=np.float64) - centers[:, None, :]
    return np.hypot(diff[..., 0], diff[..., 1])


def label_distances(
    coords: np.ndarray, labels: np.ndarray, masks: np.ndarray, label: int
) -> np.ndarray:
    """1-D float64: the distance of every point with ``label`` to its mask's centre of mass,
    leaving out points on images with an empty mask (small is good for foreground points)."""
    coords, labels, masks = _checked(coords, labels, masks)
    d = point_distances(coords, masks)[labels == label]
    return d[~np.isnan(d)]
