"""Choosing one of a back end's candidate masks (SAM returns three per prompt).

Named choices (``mask_selection``):

- ``"score"``: the highest predicted score (the assignment's template);
- ``"reject_large"``: the highest score among masks covering at most ``max_fraction`` of the
  image (SAM's "whole scene" mask for an ambiguous point is dropped); when every mask is
  larger, the smallest;
- ``"cam"``: among the masks that ``"reject_large"`` keeps, the one agreeing best with the
  CAM heat map (fuzzy Jaccard index ``sum(min(cam, m)) / sum(max(cam, m))``), ties broken by
  score. Needs the CAM.
"""

from __future__ import annotations

import numpy as np

MASK_SELECTIONS: tuple[str, ...] = ("score", "reject_large", "cam")


def check_mask_selection(method: str) -> str:
    """Return ``method`` if it is one of :data:`MASK_SELECTIONS`, else raise ValueError."""
    if method not in MASK_SELECTIONS:
        raise ValueError(f"unknown mask_selection {method!r}; expected one of {MASK_SELECTIONS}")
    return method


def cam_agreement(masks: np.ndarray, cam: np.ndarray) -> np.ndarray:
    """float64 (C,) in 0..1: the fuzzy Jaccard index of each bool (C, H, W) mask with the float
    (H, W) heat map in 0..1."""
    m = masks.reshape(len(masks), -1).astype(np.float64)
    c = np.clip(cam.reshape(1, -1).astype(np.float64), 0.0, 1.0)
    inter = np.minimum(m, c).sum(axis=1)
    union = np.maximum(m, c).sum(axis=1)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def select_mask(
    method: str,
    masks: np.ndarray,
    scores: np.ndarray,
    cam: np.ndarray | None = None,
    max_fraction: float = 0.5,
) -> int:
    """Index of the mask that ``method`` (see the module docstring) chooses among bool
    (C, H, W) candidates with float (C,) predicted ``scores``; ``cam``: float (H, W) in 0..1."""
    check_mask_selection(method)
    scores = np.asarray(scores, dtype=np.float64)
    if method == "score":
        return int(np.argmax(scores))
    fractions = masks.reshape(len(masks), -1).mean(axis=1)
    keep = np.flatnonzero((fractions <= max_fraction) & (fractions > 0))
    if keep.size == 0:
        return int(np.argmin(fractions))
    if method == "reject_large":
        return int(keep[np.argmax(scores[keep])])
    if cam is None:
        raise ValueError("mask_selection 'cam' needs the CAM heat map, but cam=None was passed")
    if cam.shape != masks.shape[1:]:
        raise ValueError(f"cam must have shape {masks.shape[1:]}, got {cam.shape}")
    agreement = cam_agreement(masks[keep], cam)
    order = np.lexsort((-scores[keep], -agreement))  # by agreement, then score
    return int(keep[order[0]])
