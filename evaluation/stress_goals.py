"""Issue #17's goals for one comparison run (a dataset of the stress suite): its best automatic
strategy's foreground hit rate overall, in the lowest-contrast fifth of images and in its worst
class, and its mean IoU against the oracle's (``oracle_interior``, same segmenter)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import UserError
from evaluation.results import ComparisonResults
from evaluation.tables import AUTOMATIC_KINDS
from metrics import wilson_interval

ORACLE = "oracle_interior"
GOAL_HEADER = (
    "dataset",
    "segmenter",
    "classifier test acc.",
    "best automatic",
    "fg hit [95 % interval]",
    "lowest-contrast fifth [95 %]",
    "worst class [95 %]",
    "mean IoU / oracle's",
    "goals met",
)

#: Issue #17's goals, each a lower bound: the best automatic strategy's foreground hit rate
#: overall, in the lowest-contrast fifth of images and in its worst class, and its mean IoU
#: minus the oracle's (within 0.02 of it).
GOALS = {"fg hit": 0.97, "lowest-contrast fifth": 0.93, "worst class": 0.95, "IoU gap": -0.02}


def classifier_cell(info: dict, dataset: dict | None = None) -> str:
    """The classifier's accuracy and how long it trained, from the comparison's
    ``settings["classifier"]`` (``info``) and ``settings["dataset"]`` (``dataset``): e.g.
    ``92.2 % (1200 steps)`` (from scratch) or ``97.0 % (5 epochs)`` (ImageNet fine-tune); just
    the accuracy when the recipe is not recorded. The accuracy is the one on the compared
    images when the run recorded it (``dataset["classifier_accuracy"]``), else the test
    accuracy saved at training; ``trained on another dataset`` is added when the classifier's
    fingerprint is not the compared dataset's."""
    dataset = dataset or {}
    accuracy = dataset.get("classifier_accuracy", info["test_accuracy"])
    cell = f"{100 * accuracy:.1f} %"
    config = info.get("config") or {}
    recipe = info.get("recipe")
    notes = []
    if recipe == "scratch-curriculum" and "steps" in config:
        notes.append(f"{config['steps']} steps")
    elif recipe == "imagenet-finetune" and "finetune_epochs" in config:
        notes.append(f"{config['finetune_epochs']} epochs")
    trained_on, compared = info.get("fingerprint"), dataset.get("fingerprint")
    if trained_on and compared and trained_on != compared:
        notes.append("trained on another dataset")
    return cell + (f" ({', '.join(notes)})" if notes else "")


def rate_cell(hits: np.ndarray, bold: bool = False) -> str:
    """``91.0 % [84-95]``: the mean of per-image hit rates ``hits`` (float (N,) in [0, 1]) and
    its 95 % Wilson interval (:func:`metrics.wilson_interval`, one trial per image), in
    percent; ``bold`` puts the rate in Markdown bold (``**97.6 %** [96-99]``)."""
    lo, hi = wilson_interval(float(hits.sum()), len(hits))
    rate = f"{100 * hits.mean():.1f} %"
    return f"{_bold(rate, bold)} [{100 * lo:.0f}-{100 * hi:.0f}]"


def _bold(text: str, bold: bool) -> str:
    return f"**{text}**" if bold else text


def goal_cells(results: ComparisonResults) -> list[str]:
    """The cells of :data:`GOAL_HEADER` for one run (summary rows and ``per_image`` rows).

    The best automatic row has the highest ``fg_hit_rate``, then ``miou``. The lowest-contrast
    fifth is the images whose ``contrast`` is at or below its 20 % quantile. Each hit rate is
    followed by its 95 % Wilson interval over the images it counts (:func:`rate_cell`), so a
    reader sees whether a goal is missed by more than the sample's noise; a value that meets
    its goal is in Markdown bold. "goals met" counts the :data:`GOALS` that the row reaches
    with the measured rate, e.g. ``3 of 4``.

    Raises:
        common.UserError: the run has no ``oracle_interior`` row or no automatic row.
    """
    rows = {r["strategy"]: r for r in results.rows}
    auto = [r for r in results.rows if r["kind"] in AUTOMATIC_KINDS]
    if ORACLE not in rows or not auto:
        raise UserError(
            f"{results.folder}: the run needs an automatic strategy and {ORACLE} (--strategies)"
        )
    best = max(auto, key=lambda r: (r["fg_hit_rate"], r["miou"]))
    mine = [r for r in results.per_image if r["strategy"] == best["strategy"]]
    hit = np.array([float(r["fg_hit_rate"]) for r in mine])
    contrast = np.array([float(r["contrast"]) if r["contrast"] else np.nan for r in mine])
    classes = np.array([r["class"] for r in mine])
    per_class = {c: hit[classes == c].mean() for c in sorted(set(classes))}
    worst = min(per_class, key=per_class.get)
    low = contrast <= np.nanquantile(contrast, 0.2)
    iou, oracle_iou = best["miou"], rows[ORACLE]["miou"]
    values = {
        "fg hit": best["fg_hit_rate"],
        "lowest-contrast fifth": hit[low].mean(),
        "worst class": per_class[worst],
        "IoU gap": iou - oracle_iou,
    }
    reached = {name: round(float(values[name]), 9) >= bound for name, bound in GOALS.items()}
    kind = results.settings.get("segmenter_kind")
    return [
        Path(results.settings["dataset"]["path"]).name,
        best["segmenter"] + (f" ({kind})" if kind else ""),
        classifier_cell(results.settings["classifier"], results.settings["dataset"]),
        f"`{best['strategy']}`",
        rate_cell(hit, reached["fg hit"]),
        rate_cell(hit[low], reached["lowest-contrast fifth"]),
        f"{rate_cell(hit[classes == worst], reached['worst class'])} ({worst})",
        f"{_bold(f'{iou:.3f}', reached['IoU gap'])} / {oracle_iou:.3f} ({values['IoU gap']:+.3f})",
        f"{sum(reached.values())} of {len(GOALS)}",
    ]
