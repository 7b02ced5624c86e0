"""The weight-free back ends' shared machinery: ``SamPredictor``'s contract on top of "propose
candidate masks (:meth:`ClassicalSegmenter._candidates`), score them by the mean Lab contrast
across their boundary" (a pasted shape has a hard edge all along its outline), best ``C`` first.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import cv2
import numpy as np

from prompting.image_aware import neighbour_steps
from sam_pipelines.checks import SegmenterError, check_image, check_point_prompts

CONTRAST_HALF_SCORE = 20.0  # a boundary contrast that scores 0.5


def mask_to_logits(mask: np.ndarray) -> np.ndarray:
    """Signed distance in pixels, float32 (H, W): >= 1 inside ``mask``, <= -1 outside."""
    m = mask.astype(np.uint8)
    inside = cv2.distanceTransform(m, cv2.DIST_L2, 3)
    outside = cv2.distanceTransform(1 - m, cv2.DIST_L2, 3)
    return np.where(mask, inside, -outside).astype(np.float32)


def frame_markers(
    hw: tuple[int, int], fg: np.ndarray, bg: np.ndarray, radius: int
) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Seed labels for marker-based methods on a window around the foreground pixels ``fg``
    (int (K, 2) as (X, Y); ``bg`` likewise) in an image of size ``hw`` (H, W).

    The window is the foreground points' bounding box grown by ``radius`` and clipped to the
    image; its edges inside the image are background seeds, image borders are not.

    Returns:
        int32 labels (h, w) for the window (0 unknown, 1 foreground, 2 background) and the
        (rows, cols) slices that cut the window out of the image.
    """
    h, w = hw
    x0, y0 = fg.min(axis=0) - radius
    x1, y1 = fg.max(axis=0) + radius
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
    labels = np.zeros((cy1 - cy0 + 1, cx1 - cx0 + 1), np.int32)
    if y0 >= 0:
        labels[0] = 2
    if y1 <= h - 1:
        labels[-1] = 2
    if x0 >= 0:
        labels[:, 0] = 2
    if x1 <= w - 1:
        labels[:, -1] = 2
    for (x, y), value in [*((p, 2) for p in bg), *((p, 1) for p in fg)]:
        if cx0 <= x <= cx1 and cy0 <= y <= cy1:
            labels[y - cy0, x - cx0] = value
    return labels, (slice(cy0, cy1 + 1), slice(cx0, cx1 + 1))


class ClassicalSegmenter(abc.ABC):
    """Base of the weight-free back ends (``kind == "classical"``); candidates covering more
    of the image than ``max_area_fraction`` score 0."""

    name: ClassVar[str] = "classical"
    kind: ClassVar[str] = "classical"

    def __init__(self, max_area_fraction: float = 0.3) -> None:
        if not 0.0 < max_area_fraction <= 1.0:
            raise SegmenterError(
                f"{self.name}: max_area_fraction must be in (0, 1], got {max_area_fraction}"
            )
        self.max_area_fraction = max_area_fraction
        self.image: np.ndarray | None = None
        self.lab8: np.ndarray | None = None
        self._dh: np.ndarray | None = None
        self._dv: np.ndarray | None = None

    def set_image(self, image: np.ndarray, image_format: str = "RGB") -> None:
        """Take ``image`` (uint8 (H, W, 3)) and precompute its Lab colours and edge contrasts."""
        image = check_image(image, image_format, where=f"{self.name}.set_image")
        self.image = image
        self.lab8 = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)  # OpenCV's 8-bit Lab scale
        self._dh, self._dv = neighbour_steps(self.lab8)  # Lab distances, not RGB
        self._prepare()

    def predict(
        self,
        point_coords: np.ndarray | None = None,
        point_labels: np.ndarray | None = None,
        box: np.ndarray | None = None,
        mask_input: np.ndarray | None = None,
        multimask_output: bool = True,
        return_logits: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks for point prompts on the current image: ``SamPredictor.predict``'s contract,
        which every back end (``SamSegmenter`` too) follows.

        Args:
            point_coords: float (N, 2), each point (X, Y) in continuous pixel coordinates (the
                pixel (c, r) spans [c, c + 1) x [r, r + 1), so both c and its centre c + 0.5
                address it); at least one foreground point is needed for a non-empty mask.
            point_labels: (N,), 1 = foreground, 0 = background.
            box: refused here (SAM accepts an XYXY box).
            mask_input: (1, H, W) logits from this back end's earlier output (its third
                output), or None; they weight each candidate's score by ``0.5 + 0.5 * IoU``
                with the mask they encode.
            multimask_output: three candidate masks when True, one when False.
            return_logits: un-thresholded logits instead of bool masks.

        Returns:
            masks bool (C, H, W) (float logits with ``return_logits``), scores float32 (C,) (a
            predicted quality, higher is better, best first), low-resolution logits float32
            (C, h, w) to feed back as ``mask_input``: here at the image's own size, a signed
            distance (or the random walker's log-odds), > 0 inside (SAM: h = w = 256).
        """
        if self.image is None:
            raise RuntimeError(f"{self.name}: call set_image(...) before predict(...)")
        if box is not None:
            raise SegmenterError(f"{self.name}: box prompts are not supported, only points")
        hw = self.image.shape[:2]
        coords, labels = check_point_prompts(point_coords, point_labels, hw, f"{self.name}.predict")
        pixels = np.floor(coords).astype(np.int64)
        fg, bg = pixels[labels == 1], pixels[labels == 0]
        prior = None
        if mask_input is not None:
            if np.shape(mask_input) != (1, *hw):
                raise SegmenterError(
                    f"{self.name}: mask_input must be (1, {hw[0]}, {hw[1]}) logits from this "
                    f"back end's previous predict, got shape {np.shape(mask_input)}"
                )
            prior = np.asarray(mask_input)[0] > 0
        n_out = 3 if multimask_output else 1
        if len(fg) == 0:
            empty = np.zeros((n_out, *hw), bool)
            logits = np.full((n_out, *hw), -1.0, np.float32)
            return (logits if return_logits else empty), np.zeros(n_out, np.float32), logits
        candidates = self._candidates(fg, bg)
        if not candidates:
            raise SegmenterError(f"{self.name}: produced no candidate mask")
        scores = np.array([self.score(mask, bg, prior) for mask, _ in candidates], np.float32)
        chosen: list[int] = []
        for i in np.argsort(-scores, kind="stable"):
            if all(not np.array_equal(candidates[i][0], candidates[j][0]) for j in chosen):
                chosen.append(int(i))
            if len(chosen) == n_out:
                break
        chosen += [chosen[-1]] * (n_out - len(chosen))
        masks = np.stack([candidates[i][0] for i in chosen])
        logits = np.stack([candidates[i][1] for i in chosen]).astype(np.float32)
        return (logits if return_logits else masks), scores[chosen], logits

    def describe(self) -> str:
        """e.g. ``flood_fill (classical; tolerances 2..24, 8-connected, max area 0.30)``."""
        return f"{self.name} (classical; {self._settings()}, max area {self.max_area_fraction:.2f})"

    def score(self, mask: np.ndarray, bg: np.ndarray, prior: np.ndarray | None = None) -> float:
        """Quality in 0..1 of a candidate ``mask`` (bool (H, W)) for the current image: 0 when
        it contains a background pixel of ``bg`` (int (M, 2), (X, Y)), is empty or too large;
        else its boundary contrast ``c`` (the mean Lab step across the 4-neighbour pairs it
        separates; the image border is none) as ``c / (c + 20)``, times ``0.5 + 0.5 * IoU(mask,
        prior)`` given a prior."""
        assert self._dh is not None and self._dv is not None
        area = int(mask.sum())
        if area == 0 or area > self.max_area_fraction * mask.size:
            return 0.0
        if len(bg) and mask[bg[:, 1], bg[:, 0]].any():
            return 0.0
        cross_h = mask[:, 1:] != mask[:, :-1]
        cross_v = mask[1:] != mask[:-1]
        n = int(cross_h.sum()) + int(cross_v.sum())
        c = float((self._dh[cross_h].sum() + self._dv[cross_v].sum()) / n) if n else 0.0
        quality = c / (c + CONTRAST_HALF_SCORE)
        if prior is not None:
            union = int((mask | prior).sum())
            quality *= 0.5 + 0.5 * (int((mask & prior).sum()) / union if union else 0.0)
        return quality

    def _prepare(self) -> None:  # noqa: B027 - optional hook
        """Per-image precomputation after ``set_image`` (optional)."""

    @abc.abstractmethod
    def _candidates(self, fg: np.ndarray, bg: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Candidate (mask bool (H, W), logits float32 (H, W)) pairs for the current image from
        int64 foreground pixels ``fg`` (K >= 1, 2) and background pixels ``bg`` (M >= 0, 2),
        each (X, Y)."""

    @abc.abstractmethod
    def _settings(self) -> str:
        """Short description of the settings for :meth:`describe`."""
