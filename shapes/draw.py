"""Rasterising the five upright shapes and pasting them onto a background.

Masks are bool (H, W); a centre (cx, cy) is in pixels, x right, y down, pixel (row r, col c)
centred at (c + 0.5, r + 0.5). Edges are hard: a pixel belongs to the shape when its centre does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.path import Path as PolyPath

from common.errors import UserError
from shapes.classes import CLASSES


def _unit_polygon(name: str, r: float) -> np.ndarray | None:
    """Vertices (K, 2) as (dx, dy) offsets from the centre, or None for the circle."""
    if name == "circle":
        return None
    if name == "square":
        return np.array([[-r, -r], [r, -r], [r, r], [-r, r]])
    if name == "diamond":
        return np.array([[0, -r], [r, 0], [0, r], [-r, 0]])
    if name == "triangle":  # apex up, base down, width = height = 2r
        return np.array([[0, -r], [r, r], [-r, r]])
    if name == "star":  # 10 points, the first straight up, inner radius 0.45 r
        angles = -np.pi / 2 + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
        return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    raise ValueError(f"unknown shape {name!r}; expected one of {CLASSES}")


def shape_mask(name: str, size: float, cx: float, cy: float, hw: tuple[int, int]) -> np.ndarray:
    """Hard-edged bool (H, W) mask of one upright shape ``name`` (one of ``CLASSES``) whose
    bounding box is ``size`` pixels wide and high, centred at (X, Y) = (``cx``, ``cy``) pixels
    (the border may cut it), on a canvas ``hw`` = (H, W)."""
    h, w = hw
    r = size / 2.0
    mask = np.zeros((h, w), dtype=bool)
    x0, x1 = max(int(np.floor(cx - r)) - 1, 0), min(int(np.ceil(cx + r)) + 1, w)
    y0, y1 = max(int(np.floor(cy - r)) - 1, 0), min(int(np.ceil(cy + r)) + 1, h)
    if x0 >= x1 or y0 >= y1:
        return mask
    ys, xs = np.mgrid[y0:y1, x0:x1]
    dx = xs + 0.5 - cx
    dy = ys + 0.5 - cy
    poly = _unit_polygon(name, r)
    if poly is None:
        inside = dx * dx + dy * dy <= r * r
    else:
        pts = np.stack([dx.ravel(), dy.ravel()], axis=1)
        inside = PolyPath(poly).contains_points(pts, radius=1e-9).reshape(dx.shape)
    mask[y0:y1, x0:x1] = inside
    return mask


class StyleError(UserError):
    """A drawing setting out of its range; ``field`` names the setting (e.g. ``alpha_range``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field


def _check_range(
    name: str,
    value: tuple[float, float],
    low: float,
    high: float | None,
    open_low: bool = False,
) -> None:
    """Raise :class:`StyleError` unless ``value`` is two finite numbers ``lo <= hi`` within
    ``[low, high]`` (``(low, high]`` with ``open_low``; no upper bound when ``high`` is None)."""
    bound = f"{'(' if open_low else '['}{low:g}, {'inf)' if high is None else f'{high:g}]'}"
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise StyleError(name, f"must be two numbers (lo, hi), got {value!r}") from exc
    ok = (
        np.isfinite([lo, hi]).all()
        and lo <= hi
        and (lo > low if open_low else lo >= low)
        and (high is None or hi <= high)
    )
    if not ok:
        shown = f"{lo:g}" if lo == hi else f"({lo:g}, {hi:g})"
        raise StyleError(name, f"must lie in {bound} (and lo <= hi), got {shown}")


@dataclass(frozen=True)
class ShapeStyle:
    """The distribution shapes are drawn from (defaults match the real course dataset);
    construction raises :class:`StyleError` naming a field out of its range.

    Attributes:
        size_range: bounding-box width in pixels, uniform in [lo, hi].
        alpha_range: opacity, uniform in [lo, hi]; below 1 the background shows through.
        opaque_prob: probability that a shape is fully opaque regardless of ``alpha_range``.
        border_overhang: largest fraction of the shape's size that may lie outside the canvas.
        center_jitter: 1.0 places the centre anywhere allowed; smaller values keep it nearer
            the image centre.
    """

    size_range: tuple[float, float] = (8.0, 20.0)
    alpha_range: tuple[float, float] = (0.45, 1.0)
    opaque_prob: float = 0.25
    border_overhang: float = 0.3
    center_jitter: float = 1.0

    def __post_init__(self) -> None:
        _check_range("size_range", self.size_range, 0.0, None, open_low=True)
        _check_range("alpha_range", self.alpha_range, 0.0, 1.0)
        for name in ("opaque_prob", "border_overhang", "center_jitter"):
            _check_range(name, (getattr(self, name),) * 2, 0.0, 1.0)


def sample_shape(
    rng: np.random.Generator, label: int, hw: tuple[int, int], style: ShapeStyle
) -> tuple[np.ndarray, np.ndarray, float]:
    """Draw one shape of class ``label``: (bool mask (H, W), colour uint8 (3,), alpha)."""
    h, w = hw
    size = rng.uniform(*style.size_range)
    r = size / 2
    lo_x, hi_x = r - style.border_overhang * size, w - r + style.border_overhang * size
    lo_y, hi_y = r - style.border_overhang * size, h - r + style.border_overhang * size
    cx = w / 2 + style.center_jitter * (rng.uniform(lo_x, hi_x) - w / 2)
    cy = h / 2 + style.center_jitter * (rng.uniform(lo_y, hi_y) - h / 2)
    colour = rng.integers(0, 256, size=3).astype(np.uint8)
    alpha = 1.0 if rng.random() < style.opaque_prob else float(rng.uniform(*style.alpha_range))
    mask = shape_mask(CLASSES[label], size, cx, cy, hw)
    if not mask.any():  # a shape pushed fully off-canvas: centre it instead
        mask = shape_mask(CLASSES[label], size, w / 2, h / 2, hw)
    return mask, colour, alpha


def paste(background: np.ndarray, mask: np.ndarray, colour: np.ndarray, alpha: float) -> np.ndarray:
    """Alpha-blend a flat colour over ``background`` (uint8 (H, W, 3)) where ``mask`` is True."""
    out = background.astype(np.float32)
    out[mask] = (1.0 - alpha) * out[mask] + alpha * colour.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
