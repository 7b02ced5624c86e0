"""Where a classifier's heat maps sit relative to the objects: a label-free estimate.

A CNN's strided, padded layers can place the features of an object a few pixels off it (the
ResNet-18 ``layer2`` maps of this project's classifiers: about 2.8 px right and 0.7 px down of
the shape's centre, much the same for every class). :func:`estimate_heat_offset` measures that
offset from images alone: for each image, the hot part's centroid minus the foreground point
that an image-aware strategy picks (which mostly lands on the object, whatever the map's
offset); the median over the images is robust to the strategy's misses. No masks or labels are
read. Pass the result as the CAM's ``offset`` (:class:`cam.BaseCAM`) or to
:func:`cam.base.shift_heatmaps`. The notebook inlines this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from prompting.image_aware import multiscale_heat

#: Pixels at or above this fraction of a map's maximum form its hot part.
HOT_FRACTION = 0.5
#: Fewer images with a non-zero map than this cannot give an offset (a median of a handful).
MIN_IMAGES = 20


def hot_centroids(cams: np.ndarray, hot_fraction: float = HOT_FRACTION) -> np.ndarray:
    """float64 (B, 2), each (X, Y) in pixels: the heat-weighted centroid of the pixels at or
    above ``hot_fraction`` of each float (B, H, W) map's maximum; NaN for an all-zero map."""
    cams = np.asarray(cams, dtype=np.float64)
    if cams.ndim != 3:
        raise ValueError(f"cams must have shape (B, H, W), got {cams.shape}")
    peak = cams.max(axis=(1, 2), keepdims=True)
    weights = np.where((cams >= hot_fraction * peak) & (peak > 0), cams, 0.0)
    total = weights.sum(axis=(1, 2))
    ys, xs = np.mgrid[: cams.shape[1], : cams.shape[2]]
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (weights * xs).sum(axis=(1, 2)) / total
        cy = (weights * ys).sum(axis=(1, 2)) / total
    return np.stack([cx, cy], axis=1)


def estimate_heat_offset(
    cams: np.ndarray,
    images: np.ndarray,
    point_fn: Callable[..., Any] = multiscale_heat,
    min_images: int = MIN_IMAGES,
) -> tuple[float, float]:
    """(dx, dy) px, how far right and down of the objects the maps' hot parts sit: the median
    over images of (hot-part centroid, :func:`hot_centroids`) minus the first foreground point
    of ``point_fn``.

    Args:
        cams: float (B, H, W) heat maps in 0..1, unshifted.
        images: uint8 RGB (B, H, W, 3), the images the maps explain.
        point_fn: a per-image strategy ``fn(cam, image, None) -> (coords (N, 2) as (X, Y),
            labels (N,))`` that reads the image: a heat-only point follows the map's offset and
            would measure nothing.
        min_images: fewer images with a non-zero map than this is a ValueError.

    Returns:
        ``(dx, dy)`` as floats, X right and Y down, rounded to 0.01 px.
    """
    cams = np.asarray(cams, dtype=np.float32)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[:3] != cams.shape:
        raise ValueError(
            f"images (B, H, W, 3) must match cams (B, H, W): got {images.shape} and {cams.shape}"
        )
    centroids = hot_centroids(cams)
    usable = np.flatnonzero(~np.isnan(centroids).any(axis=1))
    if len(usable) < min_images:
        raise ValueError(
            f"estimate_heat_offset needs at least {min_images} images with a non-zero heat "
            f"map, got {len(usable)}"
        )
    differences = []
    for i in usable:
        coords, labels = point_fn(cams[i], images[i], None)
        x, y = np.asarray(coords)[np.asarray(labels) == 1][0]
        differences.append(centroids[i] - (x, y))
    dx, dy = np.median(np.asarray(differences, dtype=np.float64), axis=0)
    return round(float(dx), 2), round(float(dy), 2)


def measured_heat_offset(cams: np.ndarray, images: np.ndarray, source: str) -> dict[str, Any]:
    """The offset to move maps back by, as saved with results: ``dx``, ``dy`` (px) and ``how``
    it was found. :func:`estimate_heat_offset` on ``cams`` (B, H, W) and uint8 ``images``
    (B, H, W, 3), described as ``source`` (e.g. ``"300 val images"``); with fewer than
    :data:`MIN_IMAGES` non-zero maps the maps are not moved (0, 0), and ``how`` says why."""
    usable = int((np.asarray(cams).max(axis=(1, 2)) > 0).sum())
    if usable < MIN_IMAGES:
        how = f"not moved: only {usable} maps with heat in {source} (< {MIN_IMAGES})"
        return {"dx": 0.0, "dy": 0.0, "how": how}
    dx, dy = estimate_heat_offset(cams, images)
    how = f"median of hot-part centroid - multiscale_heat point over {source} (no masks read)"
    return {"dx": dx, "dy": dy, "how": how}
