"""Intersection over union of predicted and ground-truth masks, and its summaries. Both masks
empty: IoU 1.0 (nothing to find, nothing found); exactly one empty: 0.0."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def iou_per_image(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """float64 (B,): IoU of each bool (B, H, W) prediction with its (B, H, W) target."""
    pred = np.asarray(pred, dtype=bool)
    target = np.asarray(target, dtype=bool)
    if pred.shape != target.shape or pred.ndim != 3:
        raise ValueError(
            f"pred and target must both be (B, H, W); got {pred.shape} and {target.shape}"
        )
    inter = np.logical_and(pred, target).sum(axis=(1, 2))
    union = np.logical_or(pred, target).sum(axis=(1, 2))
    out = np.ones(pred.shape[0], dtype=np.float64)
    nz = union > 0
    out[nz] = inter[nz] / union[nz]
    return out


def iou_summary(
    ious: np.ndarray,
    class_labels: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
) -> dict[str, object]:
    """Summary statistics of float (B,) per-image ``ious``, per class with the optional int
    (B,) ``class_labels`` (named by ``class_names``, else ``str(index)``).

    Returns:
        dict with ``miou`` (mean), ``iou_median``, ``iou_std`` (population std, ddof=0),
        ``iou_ge_50`` (share of images with IoU >= 0.5) and ``per_class_miou`` (name -> mean
        IoU over that class's images, in class-index order; classes without images are
        omitted; empty dict when ``class_labels`` is None). All None for zero images.
    """
    ious = np.asarray(ious, dtype=np.float64)
    if ious.ndim != 1:
        raise ValueError(f"ious must be 1-D, got shape {ious.shape}")
    per_class: dict[str, float] = {}
    if class_labels is not None:
        class_labels = np.asarray(class_labels)
        if class_labels.shape != ious.shape:
            raise ValueError(
                f"class_labels shape {class_labels.shape} does not match ious {ious.shape}"
            )
        for k in np.unique(class_labels):
            name = class_names[int(k)] if class_names is not None else str(int(k))
            per_class[name] = float(ious[class_labels == k].mean())
    stats = dict.fromkeys(("miou", "iou_median", "iou_std", "iou_ge_50"))
    if ious.size:
        stats["miou"] = float(ious.mean())
        stats["iou_median"] = float(np.median(ious))
        stats["iou_std"] = float(ious.std())
        stats["iou_ge_50"] = float((ious >= 0.5).mean())
    return {**stats, "per_class_miou": per_class}
