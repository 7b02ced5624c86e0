"""Published strategies: what public solutions of the assignment and the S2C paper prompt SAM
with, for the comparison. Each reads the heat map alone: ``cam`` float (H, W) in 0..1 (``image``
and ``mask`` unused) -> ``(coords int64 (N, 2) as (X, Y), labels int64 (N,))``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from prompting.points import argmax_xy, make_points, weighted_centroid_xy
from prompting.registry import register_strategy


def weighted_centroid(cam: np.ndarray, region: np.ndarray) -> tuple[int, int]:
    """The heat-weighted centroid (X, Y) of the bool (H, W) ``region``, rounded to a pixel
    (the argmax when the region holds no heat)."""
    centre = weighted_centroid_xy(cam, region)
    if centre is None:
        return argmax_xy(cam)
    return round(centre[0]), round(centre[1])


@register_strategy(emits_background=False, published=True)
def published_cam_centroid(cam: np.ndarray, image: np.ndarray, mask: np.ndarray | None = None):
    """Published (quantumFeline/DNN-all): one foreground point at the CAM-weighted centroid of
    the pixels with CAM > 0.6; for a non-convex shape (a star) the centroid can fall outside
    it."""
    return make_points([weighted_centroid(cam, cam > 0.6)])


@register_strategy(emits_background=False, published=True)
def published_cam_centroid_snap(cam: np.ndarray, image: np.ndarray, mask: np.ndarray | None = None):
    """published_cam_centroid, with the centroid moved to the nearest pixel with CAM > 0.6
    when it falls outside them."""
    region = cam > 0.6
    x, y = weighted_centroid(cam, region)
    if not region[y, x] and region.any():  # Euclidean, the first in row-major order on ties
        ys, xs = np.nonzero(region)
        k = int(np.argmin((xs - x) ** 2 + (ys - y) ** 2))
        x, y = int(xs[k]), int(ys[k])
    return make_points([(x, y)])


@register_strategy(emits_background=True, published=True)
def published_top10_corner(cam: np.ndarray, image: np.ndarray, mask: np.ndarray | None = None):
    """Published (piotrbar250/gsn-hw2): foreground point at the centroid of the 10 % hottest
    CAM pixels (can fall outside a star), background point at the image corner with the
    lowest CAM."""
    h, w = cam.shape
    hottest = cam >= np.quantile(cam, 0.9)
    fg = np.mean(np.nonzero(hottest)[::-1], axis=1)
    fg_xy = (round(float(fg[0])), round(float(fg[1])))
    corners = [c for c in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)] if c != fg_xy]
    bg = min(corners, key=lambda c: cam[c[1], c[0]])
    return make_points([fg_xy], [bg])


@register_strategy(emits_background=True, published=True)
def published_argmax_argmin(cam: np.ndarray, image: np.ndarray, mask: np.ndarray | None = None):
    """Published (anastasiyakhodzina): foreground point at the CAM argmax, background point at
    the CAM argmin (the image corner farthest from the argmax on a flat map)."""
    h, w = cam.shape
    fg = argmax_xy(cam)
    bg = argmax_xy(-cam)
    if bg == fg:  # a flat map: argmin and argmax are the same first pixel
        corners = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)]
        bg = max(corners, key=lambda c: (c[0] - fg[0]) ** 2 + (c[1] - fg[1]) ** 2)
    return make_points([fg], [bg])


@register_strategy(emits_background=False, published=True)
def published_s2c_peaks(cam: np.ndarray, image: np.ndarray, mask: np.ndarray | None = None):
    """Published (S2C, 'From SAM to CAMs', CVPR 2024): foreground points at the CAM argmax and
    at the local maxima above 0.5 after a 3 x 3 maximum filter (three points, strongest first;
    the argmax repeats when there are fewer peaks)."""
    n_fg = 3
    peaks = (cam == ndimage.maximum_filter(cam, size=3, mode="nearest")) & (cam > 0.5)
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-cam[ys, xs], kind="stable")
    top = argmax_xy(cam)
    points = [top] + [(int(xs[k]), int(ys[k])) for k in order if (xs[k], ys[k]) != top]
    points = points[:n_fg]
    return make_points(points + [top] * (n_fg - len(points)))
