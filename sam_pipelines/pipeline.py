"""``BasicSamPipeline``: the assignment's contract, around any object with ``SamPredictor``'s
``set_image`` / ``predict``. Points are integer pixels (X, Y), sent at the pixel's centre
(X + 0.5, Y + 0.5): SAM reads continuous positions, where an integer X is the pixel's corner.
The notebook inlines this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from prompting.points import validate_points
from sam_pipelines.selection import check_mask_selection, select_mask
from shapes.transforms import to_uint8_images

PIXEL_CENTRE = 0.5  # from an integer pixel index to the pixel's centre


def segmenter_name(predictor: Any) -> str:
    """The back end's ``name`` (``"sam"``, ``"flood_fill"``, ...) for tables; a plain
    ``SamPredictor`` is ``"sam"``."""
    name = getattr(predictor, "name", None)
    if name:
        return str(name)
    return "sam" if type(predictor).__name__ == "SamPredictor" else type(predictor).__name__


@dataclass(frozen=True)
class ImageSegmentation:
    """One image's outcome: the output ``mask`` bool (H, W), the predictor's ``candidates``
    bool (C, H, W) with their ``scores`` float32 (C,), and the ``chosen`` candidate's index."""

    mask: np.ndarray
    candidates: np.ndarray
    scores: np.ndarray
    chosen: int


def segment_image(
    predictor: Any,
    image: np.ndarray,
    point_coords: np.ndarray,
    point_labels: np.ndarray,
    cam: np.ndarray | None = None,
    mask_selection: str = "score",
    refine: bool = False,
    max_mask_fraction: float = 0.5,
) -> ImageSegmentation:
    """Segment one image from point prompts: ``set_image``, ``predict`` (3 candidates), select,
    and optionally ``refine`` once (one more ``predict`` with the chosen candidate's
    low-resolution logits as ``mask_input`` and a single output).

    Args:
        predictor: ``SamPredictor`` or a back end with its contract.
        image: uint8 RGB (H, W, 3).
        point_coords: int (N, 2), each point (X, Y) in pixels; sent at the pixel centres.
        point_labels: int (N,), 1 = foreground, 0 = background.
        cam: float (H, W) heat map in 0..1 (needed by ``mask_selection="cam"``).
        mask_selection, max_mask_fraction: see :func:`sam_pipelines.selection.select_mask`.
    """
    predictor.set_image(image)
    coords = np.asarray(point_coords, dtype=np.float64) + PIXEL_CENTRE
    labels = np.asarray(point_labels)
    masks, scores, low_res = predictor.predict(
        point_coords=coords, point_labels=labels, multimask_output=True
    )
    k = select_mask(mask_selection, masks, scores, cam, max_mask_fraction)
    mask = masks[k]
    if refine:
        refined, _, _ = predictor.predict(
            point_coords=coords,
            point_labels=labels,
            mask_input=low_res[k][None],
            multimask_output=False,
        )
        mask = refined[0]
    candidates, scores = np.asarray(masks, dtype=bool), np.asarray(scores, dtype=np.float32)
    return ImageSegmentation(np.asarray(mask, dtype=bool), candidates, scores, k)


class BasicSamPipeline:
    """Point prompts -> masks through a predictor with ``SamPredictor``'s contract.

    Args:
        predictor: ``segment_anything.SamPredictor`` or a back end of :mod:`sam_pipelines`.
        grad_cam: the subclasses' heat-map source (a ``GradCAM``, ``LayerCAM`` or any
            callable of the kind: normalised images (B, 3, H, W) -> float (B, H, W) in 0..1);
            unused by the base class.
        mask_selection: ``"score"`` (the template), ``"reject_large"`` or ``"cam"``.
        refine: feed the chosen mask's low-resolution logits back once as ``mask_input``.
        max_mask_fraction: image fraction above which ``reject_large`` / ``cam`` drop a mask.

    Attributes:
        last_prompts: ``(coords int64 (B, N, 2) as (X, Y), labels int64 (B, N))`` of the last
            :meth:`segment` call: the points the predictor received, for the point metrics.
        last_cams: float32 (B, H, W) heat maps of the last :meth:`heatmaps` call, or None.
    """

    def __init__(
        self,
        predictor: Any,
        grad_cam: Any = None,
        *,
        mask_selection: str = "score",
        refine: bool = False,
        max_mask_fraction: float = 0.5,
    ) -> None:
        for method in ("set_image", "predict"):
            if not callable(getattr(predictor, method, None)):
                raise TypeError(
                    f"predictor must have SamPredictor's set_image and predict; "
                    f"{type(predictor).__name__} has no {method}()"
                )
        if not 0.0 < max_mask_fraction <= 1.0:
            raise ValueError(f"max_mask_fraction must be in (0, 1], got {max_mask_fraction}")
        self.predictor = predictor
        self.grad_cam = grad_cam
        self.mask_selection = check_mask_selection(mask_selection)
        self.refine = bool(refine)
        self.max_mask_fraction = max_mask_fraction
        self.last_prompts: tuple[np.ndarray, np.ndarray] | None = None
        self.last_cams: np.ndarray | None = None

    @property
    def segmenter_name(self) -> str:
        """``"sam"`` for SAM, else the back end's name (e.g. ``"flood_fill"``)."""
        return segmenter_name(self.predictor)

    def settings(self) -> dict[str, Any]:
        """The pipeline's options, for result tables; ``heat_map`` is the class of ``grad_cam``
        (e.g. ``"LayerCAM"``), None without one; ``heat_offset`` its ``offset`` (dx, dy) in px
        when it has one (:class:`cam.BaseCAM`), else None."""
        offset = getattr(self.grad_cam, "offset", None)
        return {
            "pipeline": type(self).__name__,
            "heat_map": None if self.grad_cam is None else type(self.grad_cam).__name__,
            "heat_offset": None if offset is None else [float(v) for v in offset],
            "segmenter": self.segmenter_name,
            "mask_selection": self.mask_selection,
            "refine": self.refine,
            "max_mask_fraction": self.max_mask_fraction,
        }

    def heatmaps(self, images: Tensor) -> np.ndarray:
        """float32 (B, H, W) in 0..1: ``grad_cam`` of each image's predicted class (kept in
        :attr:`last_cams`)."""
        if self.grad_cam is None:
            raise ValueError(f"{type(self).__name__} needs grad_cam=GradCAM(model, layers)")
        self.last_cams = np.asarray(self.grad_cam(images), dtype=np.float32)
        return self.last_cams

    def __call__(self, images: Tensor) -> Tensor:
        """Segment ImageNet-normalised float images (B, 3, H, W) with one foreground point at
        the image centre ``(W // 2, H // 2)``: bool tensor (B, H, W) on the CPU."""
        b, _, h, w = images.shape
        coords = np.tile(np.array([[[w // 2, h // 2]]], dtype=np.int64), (b, 1, 1))
        return self.segment(images, coords, np.ones((b, 1), dtype=np.int64))

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
        if not isinstance(images, Tensor) or images.ndim != 4 or images.shape[1] != 3:
            shape = getattr(images, "shape", type(images).__name__)
            raise ValueError(f"segment: images must be a tensor (B, 3, H, W), got {shape}")
        cams = self.last_cams if self.mask_selection == "cam" else None
        masks = self.segment_uint8(to_uint8_images(images), point_coords, point_labels, cams)
        return torch.from_numpy(np.stack([m.mask for m in masks]))

    def segment_uint8(
        self,
        images: np.ndarray,
        point_coords: np.ndarray,
        point_labels: np.ndarray,
        cams: np.ndarray | None = None,
    ) -> list[ImageSegmentation]:
        """The lower-level :meth:`segment`: uint8 RGB images (B, H, W, 3) in, one
        :class:`ImageSegmentation` per image out (prompts as for :meth:`segment`, kept in
        :attr:`last_prompts`; ``cams`` float (B, H, W) in 0..1, for ``mask_selection="cam"``).
        """
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
            raise ValueError(
                f"images must be uint8 (B, H, W, 3), got {images.dtype} {images.shape}"
            )
        b, h, w = images.shape[:3]
        coords, labels = validate_points(point_coords, point_labels, (h, w), "segment_uint8")
        if coords.ndim != 3 or coords.shape[0] != b:
            raise ValueError(f"point_coords must be (B={b}, N, 2), got {coords.shape}")
        if cams is not None and np.shape(cams) != (b, h, w):
            raise ValueError(f"cams must have shape {(b, h, w)}, got {np.shape(cams)}")
        if self.mask_selection == "cam" and cams is None:
            raise ValueError("mask_selection='cam' needs the CAMs (B, H, W)")
        self.last_prompts = (coords, labels)
        options = (self.mask_selection, self.refine, self.max_mask_fraction)
        image_cams = [None] * b if cams is None else cams
        return [
            segment_image(self.predictor, image, c, lab, cam, *options)
            for image, c, lab, cam in zip(images, coords, labels, image_cams, strict=True)
        ]
