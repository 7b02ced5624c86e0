"""One dict of every number for a strategy run (what the comparison scripts tabulate)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from metrics.iou import iou_per_image, iou_summary
from metrics.points import background_correct_rate, foreground_distances, foreground_hit_rate


def summarize_points(
    coords: np.ndarray, labels: np.ndarray, masks: np.ndarray
) -> dict[str, float | int | None]:
    """Point metrics of one run.

    Args:
        coords: int (B, N, 2) points (X, Y); labels: int (B, N); masks: bool (B, H, W) truth.

    Returns:
        dict with ``fg_hit_rate``, ``bg_correct_rate`` (None without background points),
        ``fg_distance_px`` (mean), ``fg_distance_median_px`` (None when no foreground point
        has a non-empty mask), ``n_fg_points`` and ``n_bg_points``.
    """
    labels = np.asarray(labels)
    dist = foreground_distances(coords, labels, masks)
    return {
        "fg_hit_rate": foreground_hit_rate(coords, labels, masks),
        "bg_correct_rate": background_correct_rate(coords, labels, masks),
        "fg_distance_px": float(dist.mean()) if dist.size else None,
        "fg_distance_median_px": float(np.median(dist)) if dist.size else None,
        "n_fg_points": int((labels == 1).sum()),
        "n_bg_points": int((labels == 0).sum()),
    }


def summarize_run(
    coords: np.ndarray,
    labels: np.ndarray,
    masks: np.ndarray,
    pred_masks: np.ndarray | None = None,
    class_labels: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
) -> dict[str, object]:
    """Point metrics plus (when ``pred_masks`` is given) the IoU summary of one strategy run.

    Args:
        coords: int (B, N, 2) points (X, Y); labels: int (B, N) point labels.
        masks: bool (B, H, W) ground truth.
        pred_masks: optional bool (B, H, W) predicted masks.
        class_labels: optional int (B,) class indices for per-class IoU.
        class_names: names for those indices.

    Returns:
        :func:`summarize_points`' keys plus ``miou``, ``iou_median``, ``iou_std``,
        ``iou_ge_50`` and ``per_class_miou`` (None / {} without ``pred_masks``).
    """
    out: dict[str, object] = dict(summarize_points(coords, labels, masks))
    if pred_masks is None:
        out.update(miou=None, iou_median=None, iou_std=None, iou_ge_50=None, per_class_miou={})
    else:
        out.update(iou_summary(iou_per_image(pred_masks, masks), class_labels, class_names))
    return out
