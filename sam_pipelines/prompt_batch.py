"""All the prompt sets of many images at once: :func:`segment_prompt_sets` returns, per image,
the masks of :func:`sam_pipelines.pipeline.segment_image` for each of its jobs with fewer
decoder calls. Distinct point sets of an image are decoded once (on every image together
through ``predict_sets`` where the back end has it, i.e. ``SamSegmenter``; else image by image),
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


def _predict_sets(
    predictor: Any,
    images: np.ndarray,
    image_index: list[int],
    coords: list[np.ndarray],
    labels: list[np.ndarray],
    mask_inputs: list[Any] | None,
    multimask_output: bool,
) -> list[tuple[np.ndarray, np.ndarray, Any]]:
    """``predictor.predict_sets`` when the back end has it, else ``set_image`` once per image
    and one ``predict`` per set; per set (masks, scores, low-resolution logits), in order."""
    if hasattr(predictor, "predict_sets"):
        return predictor.predict_sets(
            images, image_index, coords, labels, mask_inputs, multimask_output
        )
    out: list[Any] = [None] * len(coords)
    inputs = [None] * len(coords) if mask_inputs is None else mask_inputs
    for image in sorted(set(image_index)):
        predictor.set_image(images[image])
        for i in (i for i, owner in enumerate(image_index) if owner == image):
            out[i] = predictor.predict(
                point_coords=coords[i],
                point_labels=labels[i],
                mask_input=inputs[i],
                multimask_output=multimask_output,
            )
    return out


def segment_prompt_sets(
    predictor: Any,
    images: np.ndarray,
    jobs: list[list[PromptJob]],
    cams: np.ndarray | None = None,
) -> list[list[np.ndarray]]:
    """The mask of every job on every image.

    Args:
        predictor: a back end (``predict``; ``predict_sets`` where it has one).
        images: uint8 RGB (N, H, W, 3).
        jobs: per image, its jobs.
        cams: float (N, H, W) heat maps in 0..1, for ``mask_selection="cam"``, or None.

    Returns:
        Per image, per job in order, bool (H, W): what ``segment_image(predictor, image,
        job.coords, job.labels, cam, job.mask_selection, job.refine).mask`` returns.
    """
    if len(jobs) != len(images):
        raise ValueError(f"segment_prompt_sets: {len(jobs)} job lists for {len(images)} images")
    sets: list[tuple[np.ndarray, np.ndarray]] = []  # distinct (coords, labels) of each image
    set_image: list[int] = []  # per distinct set, its image
    job_set: list[list[int]] = []  # per image, per job, the index of its distinct set
    for image, image_jobs in enumerate(jobs):
        index: dict[tuple[bytes, bytes, tuple[int, ...]], int] = {}
        job_set.append([])
        for job in image_jobs:
            coords = np.asarray(job.coords, dtype=np.float64) + PIXEL_CENTRE
            labels = np.asarray(job.labels, dtype=np.int64)
            key = (coords.tobytes(), labels.tobytes(), coords.shape)
            if key not in index:
                index[key] = len(sets)
                sets.append((coords, labels))
                set_image.append(image)
            job_set[image].append(index[key])
    coords, labels = [c for c, _ in sets], [lab for _, lab in sets]
    first = _predict_sets(predictor, images, set_image, coords, labels, None, True)
    masks: list[list[np.ndarray]] = []
    refine: list[tuple[int, int, int, int]] = []  # (image, job, distinct set, chosen candidate)
    for image, image_jobs in enumerate(jobs):
        cam = None if cams is None else cams[image]
        masks.append([])
        for j, (job, s) in enumerate(zip(image_jobs, job_set[image], strict=True)):
            chosen = select_mask(job.mask_selection, first[s][0], first[s][1], cam)
            masks[image].append(np.asarray(first[s][0][chosen], dtype=bool))
            if job.refine:
                refine.append((image, j, s, chosen))
    if refine:
        refined = _predict_sets(
            predictor,
            images,
            [image for image, _, _, _ in refine],
            [coords[s] for _, _, s, _ in refine],
            [labels[s] for _, _, s, _ in refine],
            [first[s][2][chosen][None] for _, _, s, chosen in refine],
            False,
        )
        for (image, j, _, _), (out, _, _) in zip(refine, refined, strict=True):
            masks[image][j] = np.asarray(out[0], dtype=bool)
    return masks
