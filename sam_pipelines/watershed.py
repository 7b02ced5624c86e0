"""``watershed``: marker watershed (``skimage.segmentation.watershed``) on the Lab edge strength.

The relief is, per pixel, the largest Lab colour distance to a 4-neighbour. Markers: foreground
points (1), background points and the edges of a window around the foreground points (2, see
:func:`frame_markers`); one candidate per window margin.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from skimage.segmentation import watershed

from sam_pipelines.checks import SegmenterError
from sam_pipelines.classical_base import ClassicalSegmenter, frame_markers, mask_to_logits


class WatershedSegmenter(ClassicalSegmenter):
    """Marker-based watershed; ``object_radii`` are the window margins around the foreground
    points (one candidate each), in pixels."""

    name = "watershed"

    def __init__(
        self, object_radii: Sequence[int] = (10, 14, 20), max_area_fraction: float = 0.3
    ) -> None:
        super().__init__(max_area_fraction)
        radii = tuple(int(r) for r in object_radii)
        if not radii or min(radii) < 1:
            raise SegmenterError(f"{self.name}: object_radii must be >= 1, got {object_radii}")
        self.object_radii = radii
        self._relief: np.ndarray | None = None

    def _settings(self) -> str:
        return f"window margins {', '.join(map(str, self.object_radii))} px"

    def _prepare(self) -> None:
        assert self._dh is not None and self._dv is not None and self.lab8 is not None
        relief = np.zeros(self.lab8.shape[:2], np.float32)
        relief[:, 1:] = np.maximum(relief[:, 1:], self._dh)
        relief[:, :-1] = np.maximum(relief[:, :-1], self._dh)
        relief[1:] = np.maximum(relief[1:], self._dv)
        relief[:-1] = np.maximum(relief[:-1], self._dv)
        self._relief = relief

    def _candidates(self, fg: np.ndarray, bg: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        assert self._relief is not None
        hw = self._relief.shape
        out = []
        for radius in self.object_radii:
            markers, window = frame_markers(hw, fg, bg, radius)
            relief = np.where(markers > 0, 0.0, self._relief[window])  # seeds flood at once
            mask = np.zeros(hw, bool)
            mask[window] = watershed(relief, markers, connectivity=1) == 1
            out.append((mask, mask_to_logits(mask)))
        return out
