"""Fitting and checking the second-point model of ``multiscale_heat_parts``
(:data:`prompting.shape_parts.CONTINUATION`) on comparison runs of val splits.

A run is a ``compare_strategies.py --split val`` folder with the rows ``multiscale_heat`` and
``oracle_interior`` and their ``predictions.npz`` (images, masks, the maps the strategies read
and each row's predicted masks). For every image the winner's neighbours are candidates
(:func:`prompting.shape_parts.continuation_features`); a candidate is good when its interior
point lies in the mask and at least half of it does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from evaluation.results import ComparisonResults
from metrics import iou_per_image
from prompting.image_aware import MULTISCALE_SCALES, RegionSettings, best_labeling
from prompting.points import interior_point, make_points
from prompting.shape_parts import FEATURES, ContinuationModel, continuation_features
from sam_pipelines.classical_base import ClassicalSegmenter
from sam_pipelines.pipeline import segment_image

#: The rows a run needs: the one-point strategy and the oracle the IoU gap is measured against.
ONE_POINT, ORACLE = "multiscale_heat", "oracle_interior"


@dataclass(frozen=True)
class Examples:
    """One run's candidates (M of them) and its images (N)."""

    name: str
    features: np.ndarray  # float64 (M, F)
    good: np.ndarray  # bool (M,)
    image: np.ndarray  # int64 (M,): the image each candidate belongs to
    point: np.ndarray  # int64 (M, 2): the candidate's interior point (X, Y)
    first: np.ndarray  # int64 (N, 2): multiscale_heat's point (X, Y)
    iou_one: np.ndarray  # float64 (N,): the run's IoU from that point
    iou_oracle: np.ndarray  # float64 (N,): the run's IoU from the oracle's point


def collect_examples(results: ComparisonResults, name: str) -> Examples:
    """The candidates of every image of a run (see the module docstring).

    Raises:
        ValueError: the run has no ``predictions.npz`` or lacks one of the needed rows.
    """
    pred = results.predictions
    if pred is None or ONE_POINT not in pred.pred or ORACLE not in pred.pred:
        raise ValueError(
            f"{name}: need predictions.npz with the rows {ONE_POINT} and {ORACLE} "
            "(compare_strategies.py --split val --strategies multiscale_heat oracle_interior)"
        )
    s = RegionSettings()
    rows, good, owner, points, firsts = [], [], [], [], []
    for i, (image, mask) in enumerate(zip(pred.images, pred.gt_masks, strict=True)):
        cam = pred.cams[i].astype(np.float32)
        best = best_labeling(cam, image, MULTISCALE_SCALES, (), s)
        firsts.append(interior_point(best.labels == best.winner))
        ids, features = continuation_features(best, cam, s)
        for j, row in zip(ids, features, strict=True):
            region = best.labels == j
            x, y = interior_point(region)
            rows.append(row)
            good.append(bool(mask[y, x]) and mask[region].mean() >= 0.5)
            owner.append(i)
            points.append((x, y))
    return Examples(
        name=name,
        features=np.array(rows, np.float64).reshape(-1, len(FEATURES)),
        good=np.array(good, bool),
        image=np.array(owner, np.int64),
        point=np.array(points, np.int64).reshape(-1, 2),
        first=np.array(firsts, np.int64),
        iou_one=iou_per_image(pred.pred[ONE_POINT], pred.gt_masks),
        iou_oracle=iou_per_image(pred.pred[ORACLE], pred.gt_masks),
    )


def fit_model(
    examples: list[Examples], threshold: float, regularisation: float = 1.0
) -> ContinuationModel:
    """Logistic regression (L2, inverse strength ``regularisation``) of ``good`` on the
    standardised features of all ``examples``."""
    x = np.concatenate([e.features for e in examples])
    y = np.concatenate([e.good for e in examples])
    if len(np.unique(y)) < 2:
        raise ValueError("need good and bad candidates to fit on")
    mean, scale = x.mean(0), x.std(0) + 1e-9
    fit = LogisticRegression(C=regularisation, max_iter=5000).fit((x - mean) / scale, y)
    return ContinuationModel(
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        weights=tuple(float(v) for v in fit.coef_[0]),
        bias=float(fit.intercept_[0]),
        threshold=float(threshold),
    )


def second_points(examples: Examples, model: ContinuationModel) -> dict[int, int]:
    """Image index -> index of the candidate prompted as its second point (the most likely
    neighbour, when it reaches ``model.threshold``)."""
    if len(examples.good) == 0:
        return {}
    p = model.probability(examples.features)
    chosen: dict[int, int] = {}
    for m in np.argsort(-p, kind="stable"):
        if p[m] < model.threshold:
            break
        chosen.setdefault(int(examples.image[m]), int(m))
    return chosen


def evaluate_model(
    examples: Examples,
    model: ContinuationModel,
    images: np.ndarray,
    masks: np.ndarray,
    segmenter: ClassicalSegmenter,
) -> dict[str, float]:
    """What the second points change on one run: how many images get one (``added``), how
    many of those points miss the mask (``missed``), the foreground hit rate over all points
    before and after, and the mean IoU gap to the oracle's before and after (``segmenter``
    from both points where a second one is added, else the run's own IoU)."""
    chosen = second_points(examples, model)
    n = len(examples.first)
    first_hit = masks[np.arange(n), examples.first[:, 1], examples.first[:, 0]]
    hits = first_hit.astype(np.float64)
    after = examples.iou_one.copy()
    missed = 0
    for i, m in chosen.items():
        x, y = examples.point[m]
        second_hit = bool(masks[i, y, x])
        missed += not second_hit
        hits[i] = (float(first_hit[i]) + second_hit) / 2.0
        coords, labels = make_points([tuple(examples.first[i]), (x, y)])
        mask = segment_image(segmenter, images[i], coords, labels).mask
        after[i] = iou_per_image(mask[None], masks[i][None])[0]
    return {
        "added": float(len(chosen)),
        "missed": float(missed),
        "fg_hit_before": float(first_hit.mean()),
        "fg_hit_after": float(hits.mean()),
        "gap_before": float(examples.iou_one.mean() - examples.iou_oracle.mean()),
        "gap_after": float(after.mean() - examples.iou_oracle.mean()),
    }
