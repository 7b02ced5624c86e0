"""A second foreground point where the segmentation cut the shape in two.

Over a steep background gradient a translucent shape's colour changes across it, and the
segmentations cut it into bands; ``multiscale_heat`` then prompts the band with the strongest
outline, and a segmenter that grows colour components (``flood_fill``) returns that band only.
``multiscale_heat_parts`` prompts the winning region and, when one of its neighbours (in the
same labeling) continues the shape, that neighbour's interior as well.

Whether a neighbour continues the shape is a logistic model over :data:`FEATURES`, measured on
the winner, the neighbour and their union (:func:`continuation_features`). Its weights
(:data:`CONTINUATION`) were fitted on the stress suite's val splits by
``scripts/fit_continuation.py``, which prints them in this form; see docs/stress_suite.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from prompting.image_aware import (
    MULTISCALE_SCALES,
    BestLabeling,
    RegionSettings,
    best_labeling,
    region_scores,
    region_stats,
)
from prompting.points import Points, interior_point, make_points
from prompting.registry import register_strategy

#: The features of a neighbour j of the winning region k, in the order of the model's weights.
FEATURES = (
    "shared_sharpness",  # mean log((1 + step) / (1 + step beside)) over the k-j pairs
    "shared_step",  # mean log(1 + step) over the k-j pairs
    "union_score",  # log(score of k + j / score of k)
    "union_sharpness",  # log(sharpness of k + j / sharpness of k)
    "union_edge",  # log((1 + outline step of k + j) / (1 + outline step of k))
    "union_compactness",  # compactness of k + j
    "area",  # log(area of j)
    "union_area",  # log(area of k + j)
    "neighbour_score",  # log(score of j / score of k + 1e-9)
    "shared_share",  # number of k-j pairs / sqrt(area of k)
    "area_ratio",  # log(area of j / area of k)
)


@dataclass(frozen=True)
class ContinuationModel:
    """Logistic model: P(j continues the shape) = sigmoid(weights . (x - mean) / scale + bias),
    x the (F,) :data:`FEATURES` of j; j is prompted when P reaches ``threshold``."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def __post_init__(self) -> None:
        for name in ("mean", "scale", "weights"):
            if len(getattr(self, name)) != len(FEATURES):
                raise ValueError(f"{name}: need {len(FEATURES)} values, one per {FEATURES}")

    def probability(self, features: np.ndarray) -> np.ndarray:
        """float64 (M,): P(continues) of float (M, F) ``features``."""
        z = (np.asarray(features, np.float64) - self.mean) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias)))


def _shared_boundaries(
    labels: np.ndarray,
    k: int,
    steps: tuple[np.ndarray, np.ndarray],
    log_sharpness: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per label j (arrays of length n): the number of neighbour pairs between region ``k``
    and j, their mean ``log((1 + step) / (1 + step beside))`` (``log_sharpness``, see
    :func:`prompting.image_aware.pair_log_sharpness`) and their mean ``log(1 + step)`` (0
    where they share none)."""
    n = int(labels.max()) + 1
    count, sharp, step_sum = np.zeros((3, n))
    for (a, b), step, log_sharp in (
        ((labels[:, :-1], labels[:, 1:]), steps[0], log_sharpness[0]),
        ((labels[:-1], labels[1:]), steps[1], log_sharpness[1]),
    ):
        log_step = np.log1p(step)
        for x, y in ((a, b), (b, a)):
            cut = (x == k) & (y != k)
            count += np.bincount(y[cut], minlength=n)
            sharp += np.bincount(y[cut], log_sharp[cut], minlength=n)
            step_sum += np.bincount(y[cut], log_step[cut], minlength=n)
    shared = np.maximum(count, 1)
    return count, sharp / shared, step_sum / shared


def continuation_features(
    best: BestLabeling, cam: np.ndarray, s: RegionSettings
) -> tuple[np.ndarray, np.ndarray]:
    """The winner's neighbours in ``best.labels`` whose union with it is at most
    ``s.max_area`` pixels: int64 (M,) labels and their float64 (M, F) :data:`FEATURES`
    (M may be 0). ``cam`` is the float (H, W) heat map ``best`` was scored with."""
    labels, stats, scores, k = best.labels, best.stats, best.scores, best.winner
    count, shared_sharp, shared_step = _shared_boundaries(labels, k, best.steps, best.log_sharpness)
    chosen = labels == k
    ids, rows = [], []
    for j in np.nonzero(count > 0)[0]:
        union = (chosen | (labels == j)).astype(np.int64)
        u = region_stats(union, 2, cam, best.steps, best.inner_steps, best.log_sharpness)
        if u.area[1] > s.max_area:
            continue
        u_score = region_scores(u, s)[1]
        ids.append(int(j))
        rows.append(
            [
                shared_sharp[j],
                shared_step[j],
                np.log(u_score / scores[k]),
                np.log(u.sharpness[1] / stats.sharpness[k]),
                np.log((1.0 + u.edge_step[1]) / (1.0 + stats.edge_step[k])),
                u.compactness[1],
                np.log(stats.area[j]),
                np.log(u.area[1]),
                np.log(scores[j] / scores[k] + 1e-9),
                count[j] / np.sqrt(stats.area[k]),
                np.log(stats.area[j] / stats.area[k]),
            ]
        )
    return np.array(ids, np.int64), np.array(rows, np.float64).reshape(-1, len(FEATURES))


#: Fitted by ``python scripts/fit_continuation.py`` on the val splits of bench, translucent,
#: low_contrast, small and textured (stop 34; 27 k candidates, the default classifiers).
#: Threshold 0.9: fitted on four splits and checked on the fifth, it added no point outside
#: the shape on bench and 1-13 per 1000 images elsewhere (docs/stress_suite.md).
CONTINUATION = ContinuationModel(
    mean=(1.66, 4.435, -2.114, -0.9449, -0.5691, 0.3487, 3.896, 5.012, -3.914, 0.8273, -0.4758),
    scale=(1.1, 0.6817, 1.269, 0.6482, 0.5512, 0.1739, 0.999, 0.6358, 1.433, 0.7337, 1.214),
    weights=(
        -2.236,
        -0.7679,
        2.282,
        0.5903,
        -0.1635,
        0.8225,
        -0.04173,
        -0.7107,
        0.6666,
        0.4973,
        0.4386,
    ),
    bias=-10.27,
    threshold=0.9,
)


def continuing_neighbour(
    best: BestLabeling,
    cam: np.ndarray,
    s: RegionSettings,
    model: ContinuationModel = CONTINUATION,
) -> int | None:
    """The label of the winner's neighbour most likely to continue the shape, if its
    probability reaches ``model.threshold``; else None."""
    ids, features = continuation_features(best, cam, s)
    if len(ids) == 0:
        return None
    p = model.probability(features)
    j = int(np.argmax(p))
    return int(ids[j]) if p[j] >= model.threshold else None


@register_strategy(emits_background=False, reads_image=True)
def multiscale_heat_parts(
    cam: np.ndarray,
    image: np.ndarray,
    mask: None = None,
    *,
    scales: tuple[float, ...] = MULTISCALE_SCALES,
    model: ContinuationModel = CONTINUATION,
    **settings: Any,
) -> Points:
    """multiscale_heat's foreground point plus a second one inside the neighbouring segment
    that continues the shape (the same point twice when none does), for a shape the
    segmentation cut in two: always 2 foreground points.

    ``model`` decides (:func:`continuing_neighbour`); ``settings`` override
    :class:`RegionSettings`.
    """
    s = RegionSettings(**settings)
    best = best_labeling(cam, image, tuple(scales), (), s)
    first = interior_point(best.labels == best.winner)
    j = continuing_neighbour(best, cam, s, model)
    second = first if j is None else interior_point(best.labels == j)
    return make_points([first, second])
