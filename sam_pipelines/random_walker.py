"""``random_walker``: Grady's random walker (``skimage.segmentation.random_walker``) on Lab colours.

Seeds: the foreground points (label 1), the background points and the edges of a window around
the foreground points (label 2; see :func:`frame_markers`); the walker runs on that window only.
Candidates are the foreground probability thresholded at several levels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from skimage.segmentation import random_walker

from sam_pipelines.checks import SegmenterError
from sam_pipelines.classical_base import ClassicalSegmenter, frame_markers


class RandomWalkerSegmenter(ClassicalSegmenter):
    """Random-walker segmentation: ``beta`` is the walker's edge sensitivity (skimage's; colours
    are Lab / 255), ``object_radius`` the window margin around the foreground points in pixels,
    ``thresholds`` the foreground-probability levels giving the candidate masks, ``mode`` the
    skimage solver (``"bf"``: direct sparse solve, deterministic)."""

    name = "random_walker"

    def __init__(
        self,
        beta: float = 3000.0,
        object_radius: int = 20,
        thresholds: Sequence[float] = (0.5, 0.3, 0.7),
        mode: str = "bf",
        max_area_fraction: float = 0.3,
    ) -> None:
        super().__init__(max_area_fraction)
        if beta <= 0 or object_radius < 1:
            raise SegmenterError(
                f"{self.name}: beta must be > 0 and object_radius >= 1, got {beta}, {object_radius}"
            )
        if not thresholds or not all(0.0 < t < 1.0 for t in thresholds):
            raise SegmenterError(f"{self.name}: thresholds must lie in (0, 1), got {thresholds}")
        self.beta = float(beta)
        self.object_radius = int(object_radius)
        self.thresholds = tuple(float(t) for t in thresholds)
        self.mode = mode
        self._lab01: np.ndarray | None = None

    def _settings(self) -> str:
        return f"beta {self.beta:g}, window margin {self.object_radius} px, mode {self.mode}"

    def _prepare(self) -> None:
        assert self.lab8 is not None
        self._lab01 = self.lab8.astype(np.float64) / 255.0

    def probability(self, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
        """float32 (H, W): probability that a walker from each pixel first reaches a fg seed."""
        assert self._lab01 is not None
        hw = self._lab01.shape[:2]
        markers, window = frame_markers(hw, fg, bg, self.object_radius)
        prob = np.zeros(hw, np.float32)
        if not (markers == 2).any():  # no background seed at all: everything is foreground
            prob[window] = 1.0
            return prob
        p = random_walker(
            self._lab01[window],
            markers,
            beta=self.beta,
            mode=self.mode,
            channel_axis=-1,
            return_full_prob=True,
        )
        prob[window] = p[0]
        return prob

    def _candidates(self, fg: np.ndarray, bg: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        prob = np.clip(self.probability(fg, bg), 1e-4, 1 - 1e-4)
        out = []
        for t in self.thresholds:
            logits = (np.log(prob / (1 - prob)) - np.log(t / (1 - t))).astype(np.float32)
            out.append((logits > 0, logits))
        return out
