"""``BasicSamPipeline``: the assignment's contract, with the segmenter injected.

The template's pipeline (see ``../shared/reference/README.md``): ``__call__(images)`` takes an
ImageNet-normalised batch (B, 3, H, W) and returns bool masks (B, H, W); the base class prompts
one foreground point at the image centre ``(W // 2, H // 2)``. ``segment(images, point_coords,
point_labels)`` checks the prompts, turns every image back into uint8 RGB, calls
``set_image`` and ``predict(..., multimask_output=True)``, and keeps the mask with the highest
predicted score.

Beyond the template, off by default: ``mask_selection`` (see :mod:`sam_pipelines.selection`)
and ``refine`` (one more ``predict`` with the chosen mask's low-resolution logits as
``mask_input`` and a single output). :meth:`BasicSamPipeline.segment_uint8` is the lower-level
call that the comparison uses: uint8 images in, a :class:`SegmentationResult` with every
candidate and score out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from sam_pipelines.checks import check_batch_prompts
from sam_pipelines.registry import Segmenter, get_segmenter
from sam_pipelines.selection import check_mask_selection, select_mask
from shapes import to_uint8_images


@dataclass(frozen=True)
class SegmentationResult:
    """Everything one batch produced.

    Attributes:
        masks: bool (B, H, W), the pipeline's output.
        candidates: bool (B, C, H, W), the back end's candidate masks (C = 3).
        scores: float32 (B, C), their predicted scores.
        chosen: int64 (B,), index of the selected candidate.
        final_scores: float32 (B,), the score of each output mask (after refinement if on).
        segmenter: the back end's registry name (``"sam"``, ``"flood_fill"``, ...).
        segmenter_kind: ``"sam"`` or ``"classical"``.
        settings: mask selection and refinement used.
    """

    masks: np.ndarray
    candidates: np.ndarray
    scores: np.ndarray
    chosen: np.ndarray
    final_scores: np.ndarray
    segmenter: str
    segmenter_kind: str
    settings: dict[str, Any] = field(default_factory=dict)


def center_prompts(batch: int, hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One fg point per image at ``(W // 2, H // 2)``: coords int64 (B, 1, 2), labels (B, 1)."""
    h, w = hw
    coords = np.tile(np.array([[[w // 2, h // 2]]], dtype=np.int64), (batch, 1, 1))
    return coords, np.ones((batch, 1), dtype=np.int64)


def check_images(images: Tensor, where: str = "pipeline") -> tuple[int, int, int]:
    """(B, H, W) of a normalised image batch (B, 3, H, W); raises with the bad shape otherwise."""
    if not isinstance(images, Tensor):
        raise TypeError(f"{where}: images must be a torch.Tensor (B, 3, H, W), got {type(images)}")
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"{where}: images must have shape (B, 3, H, W), got {tuple(images.shape)}")
    b, _, h, w = images.shape
    return b, h, w


@dataclass(frozen=True)
class ImageSegmentation:
    """One image's outcome.

    Attributes:
        mask: bool (H, W), the output mask.
        candidates: bool (C, H, W), the back end's candidates.
        scores: float32 (C,), their predicted scores.
        chosen: index of the selected candidate.
        final_score: score of ``mask`` (after refinement if on).
    """

    mask: np.ndarray
    candidates: np.ndarray
    scores: np.ndarray
    chosen: int
    final_score: float


def segment_image(
    segmenter: Segmenter,
    image: np.ndarray,
    point_coords: np.ndarray,
    point_labels: np.ndarray,
    cam: np.ndarray | None = None,
    mask_selection: str = "score",
    refine: bool = False,
    max_mask_fraction: float = 0.5,
) -> ImageSegmentation:
    """Segment one image from point prompts: ``set_image``, ``predict`` (3 candidates), select,
    and optionally refine once with the chosen candidate's low-resolution logits.

    Args:
        segmenter: a back end (``set_image`` reuses SAM's cached embedding for a known image).
        image: uint8 RGB (H, W, 3).
        point_coords: (N, 2), each point (X, Y) in pixels.
        point_labels: (N,), 1 = foreground, 0 = background.
        cam: float (H, W) heat map in 0..1 (needed by ``mask_selection="cam"``).
        mask_selection: ``"score"``, ``"reject_large"`` or ``"cam"`` (see
            :mod:`sam_pipelines.selection`).
        refine: one more ``predict`` with ``mask_input`` and a single output.
        max_mask_fraction: see :func:`sam_pipelines.selection.select_mask`.
    """
    segmenter.set_image(image)
    coords = np.asarray(point_coords, dtype=np.float64)
    masks, scores, low_res = segmenter.predict(
        point_coords=coords, point_labels=point_labels, multimask_output=True
    )
    k = select_mask(mask_selection, masks, scores, cam, max_mask_fraction)
    mask, score = masks[k], float(scores[k])
    if refine:
        refined, refined_scores, _ = segmenter.predict(
            point_coords=coords,
            point_labels=point_labels,
            mask_input=low_res[k][None],
            multimask_output=False,
        )
        mask, score = refined[0], float(refined_scores[0])
    return ImageSegmentation(
        mask=np.asarray(mask, dtype=bool),
        candidates=np.asarray(masks, dtype=bool),
        scores=np.asarray(scores, dtype=np.float32),
        chosen=k,
        final_score=score,
    )


def segment_with_points(
    segmenter: Segmenter,
    image: np.ndarray,
    point_coords: np.ndarray,
    point_labels: np.ndarray,
    cam: np.ndarray | None = None,
    mask_selection: str = "score",
    refine: bool = False,
    max_mask_fraction: float = 0.5,
) -> np.ndarray:
    """The output mask (bool (H, W)) of :func:`segment_image` (same arguments)."""
    return segment_image(
        segmenter,
        image,
        point_coords,
        point_labels,
        cam,
        mask_selection,
        refine,
        max_mask_fraction,
    ).mask


class BasicSamPipeline:
    """Point prompts -> masks through a segmenter with SamPredictor's contract.

    Args:
        segmenter: a back-end object, or its registry name (default ``"sam"``: the real SAM,
            which needs its checkpoint; see :func:`sam_pipelines.get_segmenter`).
        mask_selection: ``"score"`` (the template), ``"reject_large"`` or ``"cam"``.
        refine: feed the chosen mask's low-resolution logits back once as ``mask_input``.
        max_mask_fraction: image fraction above which ``reject_large`` / ``cam`` drop a mask.
    """

    def __init__(
        self,
        segmenter: Segmenter | str = "sam",
        *,
        mask_selection: str = "score",
        refine: bool = False,
        max_mask_fraction: float = 0.5,
    ) -> None:
        self.segmenter: Segmenter = (
            get_segmenter(segmenter) if isinstance(segmenter, str) else segmenter
        )
        self.mask_selection = check_mask_selection(mask_selection)
        self.refine = bool(refine)
        if not 0.0 < max_mask_fraction <= 1.0:
            raise ValueError(f"max_mask_fraction must be in (0, 1], got {max_mask_fraction}")
        self.max_mask_fraction = max_mask_fraction

    @property
    def segmenter_name(self) -> str:
        """The back end's registry name, e.g. ``"sam"`` or ``"flood_fill"``."""
        return self.segmenter.name

    def settings(self) -> dict[str, Any]:
        """The pipeline's options, for result tables."""
        return {
            "segmenter": self.segmenter.name,
            "segmenter_kind": self.segmenter.kind,
            "segmenter_description": self.segmenter.describe(),
            "mask_selection": self.mask_selection,
            "refine": self.refine,
            "max_mask_fraction": self.max_mask_fraction,
        }

    def __call__(self, images: Tensor) -> Tensor:
        """Segment with one foreground point at the image centre.

        Args:
            images: float (B, 3, H, W), ImageNet-normalised.

        Returns:
            bool tensor (B, H, W) on the CPU.
        """
        b, h, w = check_images(images, "__call__")
        coords, labels = center_prompts(b, (h, w))
        return self.segment(images, coords, labels)

    def segment(self, images: Tensor, point_coords: np.ndarray, point_labels: np.ndarray) -> Tensor:
        """Segment a batch from point prompts (the assignment's ``segment``).

        Args:
            images: float (B, 3, H, W), ImageNet-normalised.
            point_coords: integer numpy array (B, N, 2), each point (X, Y) in pixels
                (not (row, col)).
            point_labels: integer numpy array (B, N), 1 = foreground, 0 = background.

        Returns:
            bool tensor (B, H, W) on the CPU: per image, the selected mask.
        """
        b, h, w = check_images(images, "segment")
        check_batch_prompts(point_coords, point_labels, b, (h, w), "segment")
        result = self.segment_uint8(to_uint8_images(images), point_coords, point_labels)
        return torch.from_numpy(result.masks)

    def segment_uint8(
        self,
        images: np.ndarray,
        point_coords: np.ndarray,
        point_labels: np.ndarray,
        cams: np.ndarray | None = None,
        progress: bool = False,
    ) -> SegmentationResult:
        """The lower-level ``segment``: uint8 images in, every candidate and score out.

        Args:
            images: uint8 RGB (B, H, W, 3).
            point_coords: integer (B, N, 2), (X, Y) pixels.
            point_labels: integer (B, N), 1 = foreground, 0 = background.
            cams: float (B, H, W) heat maps in 0..1; required by ``mask_selection="cam"``.
            progress: show a tqdm bar over the images.
        """
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
            raise ValueError(
                f"images must be uint8 (B, H, W, 3), got {images.dtype} {images.shape}"
            )
        b, h, w = images.shape[:3]
        coords, labels = check_batch_prompts(point_coords, point_labels, b, (h, w), "segment_uint8")
        if cams is not None and np.shape(cams) != (b, h, w):
            raise ValueError(f"cams must have shape {(b, h, w)}, got {np.shape(cams)}")
        if self.mask_selection == "cam" and cams is None:
            raise ValueError("mask_selection='cam' needs the CAMs; pass cams=... (B, H, W)")
        results = [
            segment_image(
                self.segmenter,
                images[i],
                coords[i],
                labels[i],
                None if cams is None else cams[i],
                self.mask_selection,
                self.refine,
                self.max_mask_fraction,
            )
            for i in tqdm(
                range(b), desc=f"segmenting ({self.segmenter.name})", disable=not progress
            )
        ]
        return SegmentationResult(
            masks=np.stack([r.mask for r in results]) if b else np.zeros((0, h, w), bool),
            candidates=(
                np.stack([r.candidates for r in results]) if b else np.zeros((0, 3, h, w), bool)
            ),
            scores=np.stack([r.scores for r in results]) if b else np.zeros((0, 3), np.float32),
            chosen=np.array([r.chosen for r in results], dtype=np.int64),
            final_scores=np.array([r.final_score for r in results], dtype=np.float32),
            segmenter=self.segmenter.name,
            segmenter_kind=self.segmenter.kind,
            settings=self.settings(),
        )
