"""``flood_fill``: Lab colour region growing from the foreground points, tolerance chosen per image.

For every tolerance ``t``, the region is the pixels connected to a foreground point through
neighbours whose 8-bit Lab colours differ by at most ``t`` per channel (OpenCV's floating-range
``floodFill``); the base class scores each region, so the tolerance adapts to every image.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from sam_pipelines.checks import SegmenterError
from sam_pipelines.classical_base import ClassicalSegmenter, mask_to_logits


class FloodFillSegmenter(ClassicalSegmenter):
    """Adaptive-tolerance Lab flood fill: ``tolerances`` are the per-channel neighbour
    differences to try (8-bit Lab units, increasing), ``connectivity`` 4 or 8."""

    name = "flood_fill"

    def __init__(
        self,
        tolerances: Sequence[int] = tuple(range(2, 25)),
        connectivity: int = 8,
        max_area_fraction: float = 0.3,
    ) -> None:
        super().__init__(max_area_fraction)
        tols = [int(t) for t in tolerances]
        if not tols or any(t < 0 for t in tols) or tols != sorted(tols):
            raise SegmenterError(f"{self.name}: tolerances must be increasing and >= 0, got {tols}")
        if connectivity not in (4, 8):
            raise SegmenterError(f"{self.name}: connectivity must be 4 or 8, got {connectivity}")
        self.tolerances = tuple(tols)
        self.connectivity = connectivity

    def _settings(self) -> str:
        t = self.tolerances
        return f"tolerances {t[0]}..{t[-1]} ({len(t)}), {self.connectivity}-connected"

    def region(self, fg: np.ndarray, tolerance: int) -> np.ndarray:
        """bool (H, W): pixels reached from the foreground pixels ``fg`` (int (K, 2), (X, Y))."""
        assert self.lab8 is not None
        h, w = self.lab8.shape[:2]
        fill = np.zeros((h + 2, w + 2), np.uint8)
        flags = self.connectivity | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
        diff = (tolerance, tolerance, tolerance)
        for x, y in fg:
            if not fill[y + 1, x + 1]:
                cv2.floodFill(self.lab8, fill, (int(x), int(y)), 0, diff, diff, flags)
        return fill[1:-1, 1:-1].astype(bool)

    def _candidates(self, fg: np.ndarray, bg: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        out: list[tuple[np.ndarray, np.ndarray]] = []
        last_area = -1
        for t in self.tolerances:
            mask = self.region(fg, t)
            area = int(mask.sum())
            if area == last_area:  # regions are nested in t: same area, same region
                continue
            last_area = area
            out.append((mask, mask_to_logits(mask)))
            if area > self.max_area_fraction * mask.size:
                break  # every larger tolerance is rejected too
        return out
