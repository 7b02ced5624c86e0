"""All the prompt sets of one image at once: :func:`segment_prompt_sets` returns the masks
of :func:`sam_pipelines.pipeline.segment_image` with fewer decoder calls. Distinct point sets
are decoded once (through ``predict_batch`` where the back end has it, i.e. ``SamSegmenter``),
each job selects its candidate, and the jobs that refine go through the decoder together once
more with their chosen low-resolution logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sam_pipelines.pipeline import PIXEL_CENTRE
from sam_pipelines.selection import select_mask


@dataclass(frozen=True)
class PromptJob:
    """One mask to make for an image.

    Attributes:
        coords: int (K, 2) points (X, Y) in pixels (sent at the pixel centres).
        labels: int (K,), 1 = foreground, 0 = background.
        mask_selection: ``"score"``, ``"reject_large"`` or ``"cam"``.
        refine: one more decoder pass with the chosen candidate's low-resolution logits.
    """

    coords: np.ndarray
    labels: np.ndarray
    mask_selection: str = "score"
    refine: bool = False


def _predict_many(
    predictor: Any,
    coords: list[np.ndarray],
    labels: list[np.ndarray],
    mask_inputs: list[np.ndarray] | None,
    multimask_output: bool,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``predictor.predict_batch`` when the back end has it, else one ``predict`` per set."""
    if hasattr(predictor, "predict_batch"):
        return predictor.predict_batch(coords, labels, mask_inputs, multimask_output)
    inputs = [None] * len(coords) if mask_inputs is None else mask_inputs
    return [
        predictor.predict(
            point_coords=c, point_labels=lab, mask_input=m, multimask_output=multimask_output
        )
        for c, lab, m in zip(coords, labels, inputs, strict=True)
    ]


def segment_prompt_sets(
    predictor: Any,
    image: np.ndarray,
    jobs: list[PromptJob],
    cam: np.ndarray | None = None,
    max_mask_fraction: float = 0.5,
) -> list[np.ndarray]:
    """The mask of every job on ``image``; each equals what
    ``segment_image(predictor, image, job.coords, job.labels, cam, job.mask_selection,
    job.refine, max_mask_fraction).mask`` returns.

    Args:
        predictor: a back end with ``set_image`` / ``predict`` (and, for SAM, ``predict_batch``).
        image: uint8 RGB (H, W, 3).
        jobs: the prompt sets and how to turn each into a mask.
        cam: float (H, W) heat map in 0..1 (for ``mask_selection="cam"``).
        max_mask_fraction: see :func:`sam_pipelines.selection.select_mask`.

    Returns:
        bool (H, W) per job, in order.
    """
    predictor.set_image(image)
    index: dict[tuple[bytes, bytes, tuple[int, ...]], int] = {}  # a distinct set's position
    sets: list[tuple[np.ndarray, np.ndarray]] = []  # distinct (coords, labels)
    set_of_job = []
    for job in jobs:
        coords = np.asarray(job.coords, dtype=np.float64) + PIXEL_CENTRE
        labels = np.asarray(job.labels, dtype=np.int64)
        key = (coords.tobytes(), labels.tobytes(), coords.shape)
        if key not in index:
            index[key] = len(sets)
            sets.append((coords, labels))
        set_of_job.append(index[key])
    first = _predict_many(predictor, [c for c, _ in sets], [lab for _, lab in sets], None, True)
    masks: list[np.ndarray | None] = []
    to_refine: list[tuple[int, int, int]] = []  # (job, set, chosen candidate)
    for j, (job, s) in enumerate(zip(jobs, set_of_job, strict=True)):
        candidates, scores, _ = first[s]
        k = select_mask(job.mask_selection, candidates, scores, cam, max_mask_fraction)
        if job.refine:
            to_refine.append((j, s, k))
            masks.append(None)
        else:
            masks.append(np.asarray(candidates[k], dtype=bool))
    if to_refine:
        refined = _predict_many(
            predictor,
            [sets[s][0] for _, s, _ in to_refine],
            [sets[s][1] for _, s, _ in to_refine],
            [first[s][2][k][None] for _, s, k in to_refine],
            False,
        )
        for (j, _, _), (out, _, _) in zip(to_refine, refined, strict=True):
            masks[j] = np.asarray(out[0], dtype=bool)
    return masks  # type: ignore[return-value]
