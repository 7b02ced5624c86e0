"""Oracle strategies: they read the ground-truth mask, so they give a ceiling, never a method."""

from __future__ import annotations

import numpy as np

from prompting.points import farthest_point, interior_point, make_points
from prompting.registry import register_strategy


@register_strategy(
    "oracle_interior",
    emits_background=False,
    oracle=True,
    description=(
        "Oracle: one foreground point at the ground-truth mask's most interior pixel "
        "(maximum of the distance transform, ties broken towards the centroid)."
    ),
)
def oracle_interior(cam: np.ndarray, image: np.ndarray, mask: np.ndarray | None = None):
    if mask is None:
        raise ValueError("oracle_interior needs the ground-truth mask")
    return make_points([interior_point(mask, centroid_min_depth=None)])


@register_strategy(
    "oracle_interior_bg",
    emits_background=True,
    oracle=True,
    description=(
        "Oracle: the mask's most interior pixel as foreground plus the pixel farthest from "
        "the mask as background."
    ),
)
def oracle_interior_bg(cam: np.ndarray, image: np.ndarray, mask: np.ndarray | None = None):
    if mask is None:
        raise ValueError("oracle_interior_bg needs the ground-truth mask")
    return make_points([interior_point(mask, centroid_min_depth=None)], [farthest_point(mask)])
