"""Evaluation metrics as pure functions: point hit rates and distances (conventions in
:mod:`metrics.points`), IoU (:mod:`metrics.iou`), shape contrast (:mod:`metrics.contrast`) and
the interval of a rate (:mod:`metrics.intervals`).
"""

from metrics.contrast import outer_ring, shape_contrast, shape_contrasts
from metrics.intervals import wilson_interval
from metrics.iou import iou_per_image, iou_summary
from metrics.points import hit_rate, label_distances, mask_centers, point_distances, points_inside
from metrics.summary import summarize_points, summarize_run

__all__ = [
    "hit_rate",
    "iou_per_image",
    "iou_summary",
    "label_distances",
    "mask_centers",
    "outer_ring",
    "point_distances",
    "points_inside",
    "shape_contrast",
    "shape_contrasts",
    "summarize_points",
    "summarize_run",
    "wilson_interval",
]
