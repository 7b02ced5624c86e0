"""Measuring back ends: mean IoU with given point prompts and time per image.

``scripts/benchmark_segmenters.py`` runs this over a dataset split with the oracle strategies
(the mask's most interior pixel as foreground, the pixel farthest from the mask as background),
so the numbers measure the back end, not the prompts. Speed is reported as a ratio against a
peer measured in the same run: a plain flood fill with one fixed tolerance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from sam_pipelines.flood_fill import FloodFillSegmenter
from sam_pipelines.pipeline import segment_image
from sam_pipelines.registry import Segmenter

PEER_NAME = "plain flood fill (tol 8)"


def plain_flood_fill() -> FloodFillSegmenter:
    """The speed peer: Lab flood fill with the single tolerance 8 (no tolerance search)."""
    return FloodFillSegmenter(tolerances=(8,))


@dataclass(frozen=True)
class SegmenterRun:
    """One back end on one set of prompts.

    Attributes:
        ious: float64 (B,), per-image IoU of the selected mask.
        seconds: wall time of all ``set_image`` + ``predict`` calls.
    """

    ious: np.ndarray
    seconds: float

    @property
    def miou(self) -> float:
        return float(self.ious.mean())

    @property
    def ms_per_image(self) -> float:
        return 1000.0 * self.seconds / max(len(self.ious), 1)


def run_segmenter(
    segmenter: Segmenter,
    images: np.ndarray,
    masks: np.ndarray,
    coords: np.ndarray,
    labels: np.ndarray,
    desc: str = "",
    progress: bool = True,
) -> SegmenterRun:
    """Segment every image (highest-score mask) and score it against ``masks``.

    Args:
        images: uint8 (B, H, W, 3); masks: bool (B, H, W); coords: int (B, N, 2) (X, Y);
            labels: int (B, N).
    """
    from metrics import iou_per_image

    pred = np.empty(masks.shape, dtype=bool)
    start = time.perf_counter()
    for i in tqdm(range(len(images)), desc=desc, disable=not progress, leave=False):
        pred[i] = segment_image(segmenter, images[i], coords[i], labels[i]).mask
    seconds = time.perf_counter() - start
    return SegmenterRun(iou_per_image(pred, masks), seconds)
