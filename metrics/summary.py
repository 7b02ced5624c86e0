"""One dict of every number for a strategy run (what the comparison scripts tabulate)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from metrics.iou import iou_per_image, iou_summary
from metrics.points import hit_rate, label_distances


def summarize_points(
    coords: np.ndarray, labels: np.ndarray, masks: np.ndarray
) -> dict[str, float | int | None]:
    """Point metrics of one run: coords int (B, N, 2) as (X, Y), labels int (B, N), bool (B, H, W)
    ground-truth masks -> dict with, for ``fg_`` and ``bg_`` points alike, ``*_hit_rate`` (share
    inside the mask), ``*_distance_px`` and ``*_distance_median_px`` (to the mask's centre of
    mass; None without such points on a non-empty mask), plus ``bg_correct_rate`` (1 -
    ``bg_hit_rate``), ``n_fg_points`` and ``n_bg_points``."""
    labels = np.asarray(labels)
    out: dict[str, float | int | None] = {}
    for prefix, label in (("fg", 1), ("bg", 0)):
        dist = label_distances(coords, labels, masks, label)
        out[f"{prefix}_hit_rate"] = hit_rate(coords, labels, masks, label)
        out[f"{prefix}_distance_px"] = float(dist.mean()) if dist.size else None
        out[f"{prefix}_distance_median_px"] = float(np.median(dist)) if dist.size else None
    bg_hit = out["bg_hit_rate"]
    out["bg_correct_rate"] = None if bg_hit is None else 1.0 - bg_hit
    out["n_fg_points"] = int((labels == 1).sum())
    out["n_bg_points"] = int((labels == 0).sum())
    return out


def summarize_run(
    coords: np.ndarray,
    labels: np.ndarray,
    masks: np.ndarray,
    pred_masks: np.ndarray | None = None,
    class_labels: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
) -> dict[str, object]:
    """:func:`summarize_points` plus (given bool (B, H, W) ``pred_masks``) the IoU summary of
    one strategy run, per class with int (B,) ``class_labels`` and their ``class_names``.

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
