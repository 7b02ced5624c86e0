"""Point-prompt validation and the small geometric helpers the strategies share.

Conventions of ``prompting`` and ``metrics``: a point is (X, Y) in pixels, X the column and Y
the row, addressing ``mask[Y, X]``; labels are 1 foreground, 0 background (as SamPredictor).
The module depends on nothing else in the project; the submission notebook inlines it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import ndimage

FOREGROUND = 1
BACKGROUND = 0

#: Point prompts: coords int64 (N, 2) as (X, Y) and labels int64 (N,), 1 = fg, 0 = bg.
Points = tuple[np.ndarray, np.ndarray]


class PointsError(ValueError):
    """Point prompts that break the contract; the message says where and what."""


def validate_points(
    coords: np.ndarray, labels: np.ndarray, hw: tuple[int, int], where: str = "points"
) -> tuple[np.ndarray, np.ndarray]:
    """Check point prompts and return ``(coords, labels)`` as int64 arrays of the same shapes.

    Args:
        coords: integer-valued (N, 2) or (B, N, 2) array, each point (X, Y) in pixels.
        labels: (N,) or (B, N) array of 0 (background) and 1 (foreground).
        hw: the image size (H, W); every point must satisfy 0 <= X < W and 0 <= Y < H.
        where: a name for the caller, used in error messages.

    Raises:
        PointsError: wrong shapes, non-integer values, labels other than 0/1, no points at all,
            or a point outside the image.
    """
    coords = np.asarray(coords)
    labels = np.asarray(labels)
    h, w = int(hw[0]), int(hw[1])
    if coords.ndim not in (2, 3) or coords.shape[-1] != 2:
        raise PointsError(f"{where}: coords must be (N, 2) or (B, N, 2), got {coords.shape}")
    if labels.shape != coords.shape[:-1]:
        raise PointsError(
            f"{where}: labels shape {labels.shape} does not match coords shape {coords.shape}"
        )
    if coords.shape[-2] == 0:
        raise PointsError(f"{where}: no points")
    if coords.dtype == bool or not (
        np.issubdtype(coords.dtype, np.integer)
        or (np.issubdtype(coords.dtype, np.floating) and np.all(coords == np.round(coords)))
    ):
        raise PointsError(f"{where}: coords must hold integers, got dtype {coords.dtype}")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise PointsError(f"{where}: labels must be integers 0/1, got dtype {labels.dtype}")
    if not np.isin(labels, (BACKGROUND, FOREGROUND)).all():
        raise PointsError(f"{where}: labels must be 0 or 1, got {np.unique(labels).tolist()}")
    coords = coords.astype(np.int64)
    x, y = coords[..., 0], coords[..., 1]
    outside = (x < 0) | (x >= w) | (y < 0) | (y >= h)
    if outside.any():
        bad = coords[outside][0].tolist()
        raise PointsError(f"{where}: point (X, Y) = {tuple(bad)} lies outside the {h}x{w} image")
    return coords, labels.astype(np.int64)


def make_points(
    fg: list[tuple[int, int]] | np.ndarray, bg: list[tuple[int, int]] | np.ndarray = ()
) -> Points:
    """Foreground then background points (each (X, Y)) as ``(coords (N, 2), labels (N,))``."""
    fg_arr = np.asarray(fg, dtype=np.int64).reshape(-1, 2)
    bg_arr = np.asarray(bg, dtype=np.int64).reshape(-1, 2)
    labels = np.repeat(np.array([FOREGROUND, BACKGROUND], np.int64), [len(fg_arr), len(bg_arr)])
    return np.concatenate([fg_arr, bg_arr]), labels


def weighted_centroid_xy(heat: np.ndarray, region: np.ndarray) -> tuple[float, float] | None:
    """The ``heat``-weighted centroid (X, Y), in float pixels, of the bool (H, W) ``region`` of a
    float (H, W) heat map; None when the region holds no heat."""
    weights = np.where(region, heat, 0.0).astype(np.float64)
    total = weights.sum()
    if total <= 0:
        return None
    ys, xs = np.indices(heat.shape)
    return float((weights * xs).sum() / total), float((weights * ys).sum() / total)


def argmax_xy(values: np.ndarray) -> tuple[int, int]:
    """(X, Y) of the first maximum of a 2-D array in row-major order."""
    y, x = np.unravel_index(int(np.argmax(values)), values.shape)
    return int(x), int(y)


def interior_point(region: np.ndarray, centroid_min_depth: float | None = 0.5) -> tuple[int, int]:
    """A point (X, Y) well inside a bool (H, W) region: its most interior pixel (largest distance
    to the nearest pixel outside, the image border counting as outside; ties go to the pixel
    closest to the centroid, then the first in row-major order). If ``centroid_min_depth`` is
    not None, the rounded centroid wins whenever it lies in the region at a depth of at least
    that fraction of the maximum (keeps convex shapes at their centre of mass). An empty region
    gives the image centre.
    """
    h, w = region.shape
    if not region.any():
        return w // 2, h // 2
    depth = ndimage.distance_transform_edt(np.pad(region, 1, constant_values=False))[1:-1, 1:-1]
    ys, xs = np.nonzero(region)
    cx, cy = float(xs.mean()), float(ys.mean())
    best = float(depth.max())
    if centroid_min_depth is not None:
        rx, ry = min(max(round(cx), 0), w - 1), min(max(round(cy), 0), h - 1)
        if region[ry, rx] and depth[ry, rx] >= centroid_min_depth * best:
            return rx, ry
    ty, tx = np.nonzero(depth >= best - 1e-6)
    k = int(np.argmin((tx - cx) ** 2 + (ty - cy) ** 2))
    return int(tx[k]), int(ty[k])


def distance_from(region: np.ndarray) -> np.ndarray:
    """float64 (H, W) Euclidean distance of every pixel to a bool (H, W) region (to the image
    centre pixel when the region is empty)."""
    if not region.any():
        h, w = region.shape
        region = np.zeros_like(region)
        region[h // 2, w // 2] = True
    return ndimage.distance_transform_edt(~region)


def spread_points(
    xs: np.ndarray, ys: np.ndarray, score: np.ndarray, n: int
) -> list[tuple[int, int]]:
    """``n`` of the int (K >= 1,) candidate pixels ``xs``, ``ys``, picked greedily and spread
    apart, as (X, Y): each pick is the candidate with the highest float (K,) ``score`` (ties
    go to the first), after which every score is capped at its distance to the pick."""
    points = []
    for _ in range(n):
        k = int(np.argmax(score))
        points.append((int(xs[k]), int(ys[k])))
        score = np.minimum(score, np.hypot(xs - xs[k], ys - ys[k]))
    return points


def points_for_batch(
    strategy: Callable[..., Points],
    cams: np.ndarray,
    images: np.ndarray,
    masks: np.ndarray | None = None,
    **params: Any,
) -> Points:
    """Run ``strategy(cam, image, mask, **params) -> (coords (N, 2), labels (N,))`` on every
    image of a batch: float ``cams`` (B, H, W) in 0..1, uint8 RGB ``images`` (B, H, W, 3), bool
    ``masks`` (B, H, W) for oracles (None passes ``mask=None``).

    Returns:
        coords int64 (B, N, 2), each point (X, Y) in pixels, and labels int64 (B, N).

    Raises:
        PointsError: points that break :func:`validate_points`, or N changes between images.
    """
    coords, labels = [], []
    for i in range(len(cams)):
        where = f"strategy {strategy.__name__!r}, image {i}"
        points = strategy(cams[i], images[i], None if masks is None else masks[i], **params)
        c, lab = validate_points(*points, np.shape(cams)[1:], where)
        if coords and c.shape != coords[0].shape:
            raise PointsError(
                f"{where}: {len(c)} points, but {len(coords[0])} for image 0; "
                "N must be fixed per strategy"
            )
        coords.append(c)
        labels.append(lab)
    return np.stack(coords), np.stack(labels)
