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
#: An image agrees with an offset when its own (centroid - point) lies this close to it (px).
AGREE_RADIUS = 3.0
#: The share of agreeing images below which :func:`measured_heat_offset` moves nothing.
MIN_AGREEMENT = 0.5


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


def offset_samples(
    cams: np.ndarray,
    images: np.ndarray,
    point_fn: Callable[..., Any] = multiscale_heat,
) -> np.ndarray:
    """float64 (N, 2), one (dx, dy) per image with a non-zero map: its hot-part centroid
    (:func:`hot_centroids`) minus the first foreground point of ``point_fn``.

    Args:
        cams: float (B, H, W) heat maps in 0..1, unshifted.
        images: uint8 RGB (B, H, W, 3), the images the maps explain.
        point_fn: a per-image strategy ``fn(cam, image, None) -> (coords (N, 2) as (X, Y),
            labels (N,))`` that reads the image: a heat-only point follows the map's offset and
            would measure nothing.
    """
    cams = np.asarray(cams, dtype=np.float32)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[:3] != cams.shape:
        raise ValueError(
            f"images (B, H, W, 3) must match cams (B, H, W): got {images.shape} and {cams.shape}"
        )
    centroids = hot_centroids(cams)
    samples = []
    for i in np.flatnonzero(~np.isnan(centroids).any(axis=1)):
        coords, labels = point_fn(cams[i], images[i], None)
        x, y = np.asarray(coords)[np.asarray(labels) == 1][0]
        samples.append(centroids[i] - (x, y))
    return np.asarray(samples, dtype=np.float64).reshape(-1, 2)


def estimate_heat_offset(
    cams: np.ndarray,
    images: np.ndarray,
    point_fn: Callable[..., Any] = multiscale_heat,
    min_images: int = MIN_IMAGES,
) -> tuple[float, float]:
    """(dx, dy) px, how far right and down of the objects the maps' hot parts sit: the median
    of the :func:`offset_samples` (arguments as there), rounded to 0.01 px, X right and Y
    down. Fewer than ``min_images`` images with a non-zero map is a ValueError."""
    samples = offset_samples(cams, images, point_fn)
    if len(samples) < min_images:
        raise ValueError(
            f"estimate_heat_offset needs at least {min_images} images with a non-zero heat "
            f"map, got {len(samples)}"
        )
    return median_offset(samples)


def median_offset(samples: np.ndarray) -> tuple[float, float]:
    """(dx, dy): the median of (N, 2) :func:`offset_samples` (N >= 1), rounded to 0.01 px."""
    dx, dy = np.median(samples, axis=0)
    return round(float(dx), 2), round(float(dy), 2)


def agreement(samples: np.ndarray, offset: tuple[float, float]) -> float:
    """The share of the (N, 2) :func:`offset_samples` within :data:`AGREE_RADIUS` px of
    ``offset``: about 0.7 for this project's classifiers, under 0.1 for one at chance level,
    whose maps do not follow the shapes (so their median is noise)."""
    if len(samples) == 0:
        return 0.0
    distance = np.hypot(samples[:, 0] - offset[0], samples[:, 1] - offset[1])
    return float((distance <= AGREE_RADIUS).mean())


def measured_heat_offset(cams: np.ndarray, images: np.ndarray, source: str) -> dict[str, Any]:
    """The offset to move maps back by, as saved with results: ``dx``, ``dy`` (px), the
    ``agreement`` of the images with it and ``how`` it was found, for ``cams`` (B, H, W) and
    uint8 ``images`` (B, H, W, 3) described as ``source`` (e.g. ``"300 val images"``).

    The maps are not moved (0, 0), and ``how`` says why, when fewer than :data:`MIN_IMAGES`
    maps have heat or when fewer than :data:`MIN_AGREEMENT` of the images agree with the
    median (:func:`agreement`): then the maps do not follow the shapes closely enough for
    their offset to mean anything."""
    samples = offset_samples(cams, images)
    if len(samples) < MIN_IMAGES:
        how = f"not moved: only {len(samples)} maps with heat in {source} (< {MIN_IMAGES})"
        return {"dx": 0.0, "dy": 0.0, "agreement": None, "how": how}
    dx, dy = median_offset(samples)
    share = round(agreement(samples, (dx, dy)), 3)
    if share < MIN_AGREEMENT:
        how = (
            f"not moved: in {source} only {share:.0%} of the images lie within {AGREE_RADIUS:g} "
            f"px of the median offset ({dx}, {dy}), so the maps do not follow the shapes"
        )
        return {"dx": 0.0, "dy": 0.0, "agreement": share, "how": how}
    how = (
        f"median of hot-part centroid - multiscale_heat point over {source} (no masks read; "
        f"{share:.0%} of them within {AGREE_RADIUS:g} px of it)"
    )
    return {"dx": dx, "dy": dy, "agreement": share, "how": how}
