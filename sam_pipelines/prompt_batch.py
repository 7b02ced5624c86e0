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
    predictor: Any, image: np.ndarray, jobs: list[PromptJob], cam: np.ndarray | None = None
) -> list[np.ndarray]:
    """The mask of every job on ``image`` (uint8 RGB (H, W, 3)): bool (H, W) per job, in order,
    each what ``segment_image(predictor, image, job.coords, job.labels, cam,
    job.mask_selection, job.refine).mask`` returns (``cam``: float (H, W) heat map in 0..1, for
    ``mask_selection="cam"``)."""
    predictor.set_image(image)
    index: dict[tuple[bytes, bytes, tuple[int, ...]], int] = {}  # a distinct set's position
    sets: list[tuple[np.ndarray, np.ndarray]] = []  # distinct (coords, labels)
    job_set = []  # per job, the index of its distinct set
    for job in jobs:
        coords = np.asarray(job.coords, dtype=np.float64) + PIXEL_CENTRE
        labels = np.asarray(job.labels, dtype=np.int64)
        key = (coords.tobytes(), labels.tobytes(), coords.shape)
        if key not in index:
            index[key] = len(sets)
            sets.append((coords, labels))
        job_set.append(index[key])
    first = _predict_many(predictor, [c for c, _ in sets], [lab for _, lab in sets], None, True)
    chosen = [
        select_mask(job.mask_selection, first[s][0], first[s][1], cam)
        for job, s in zip(jobs, job_set, strict=True)
    ]
    masks = [np.asarray(first[s][0][k], dtype=bool) for s, k in zip(job_set, chosen, strict=True)]
    refine = [j for j, job in enumerate(jobs) if job.refine]
    if refine:
        refined = _predict_many(
            predictor,
            [sets[job_set[j]][0] for j in refine],
            [sets[job_set[j]][1] for j in refine],
            [first[job_set[j]][2][chosen[j]][None] for j in refine],
            False,
        )
        for j, (out, _, _) in zip(refine, refined, strict=True):
            masks[j] = np.asarray(out[0], dtype=bool)
    return masks
