"""Running a strategy over a whole split in batches, timing it per image."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from prompting.registry import Strategy


@dataclass(frozen=True)
class Timing:
    """Per-image cost of the fastest run: wall-clock seconds and CPU seconds of this process
    (all its threads; unlike wall time, not inflated by waiting for a shared core)."""

    wall_s: float
    cpu_s: float


def run_strategy(
    strategy: Strategy,
    cams: np.ndarray,
    images: np.ndarray,
    masks: np.ndarray,
    *,
    batch_size: int = 64,
    repeats: int = 1,
) -> tuple[np.ndarray, np.ndarray, Timing]:
    """Points of a registered ``strategy`` for float ``cams`` (N, H, W) in 0..1, uint8
    ``images`` (N, H, W, 3) and bool ground-truth ``masks`` (N, H, W) (used by oracles only), in
    calls of ``batch_size`` images (timed with their validation, as in a pipeline); the whole
    split runs ``repeats`` times and the fastest run counts (shared machines are noisy upwards).

    Returns:
        coords int64 (N, P, 2) as (X, Y), labels int64 (N, P), and the per-image
        :class:`Timing` (wall and CPU time each the minimum over the repeats).
    """
    if repeats < 1 or batch_size < 1:
        raise ValueError(f"repeats and batch_size must be >= 1, got {repeats}, {batch_size}")
    n = len(cams)
    if n == 0:
        raise ValueError("run_strategy needs at least one image")
    best_wall = best_cpu = float("inf")
    coords = labels = np.zeros(0)
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        parts = [
            strategy(
                cams[i : i + batch_size], images[i : i + batch_size], masks[i : i + batch_size]
            )
            for i in range(0, n, batch_size)
        ]
        best_wall = min(best_wall, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
        coords = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
    return coords, labels, Timing(best_wall / n, best_cpu / n)
