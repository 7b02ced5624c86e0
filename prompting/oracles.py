"""Oracle strategies: they read the ground-truth mask, so they give a ceiling, never a method.

``mask`` is the bool (H, W) ground truth (required); points are (X, Y).
"""

from __future__ import annotations

import numpy as np

from prompting.points import Points, argmax_xy, distance_from, interior_point, make_points
from prompting.registry import register_strategy


@register_strategy(emits_background=False, oracle=True)
def oracle_interior(cam: np.ndarray, image: np.ndarray, mask: np.ndarray) -> Points:
    """Oracle: one foreground point at the ground-truth mask's most interior pixel
    (maximum of the distance transform, ties broken towards the centroid)."""
    return make_points([interior_point(mask, centroid_min_depth=None)])


@register_strategy(emits_background=True, oracle=True)
def oracle_interior_bg(cam: np.ndarray, image: np.ndarray, mask: np.ndarray) -> Points:
    """Oracle: the mask's most interior pixel as foreground plus the pixel farthest from
    the mask as background."""
    fg, _ = oracle_interior(cam, image, mask)
    return make_points(fg, [argmax_xy(distance_from(mask))])
