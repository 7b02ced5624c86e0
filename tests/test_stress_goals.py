"""evaluation.stress_goals: the goals row of a comparison run, on a hand-made run."""

from __future__ import annotations

import pytest

from common.errors import UserError
from evaluation.results import ComparisonResults
from evaluation.stress_goals import GOAL_HEADER, classifier_cell, goal_cells

SETTINGS = {
    "dataset": {"path": "data/stress/x"},
    "classifier": {"test_accuracy": 0.9},
    "segmenter_kind": "classical",
}


def _row(strategy: str, kind: str, hit: float, miou: float) -> dict:
    row = {"strategy": strategy, "kind": kind, "segmenter": "flood_fill"}
    return row | {"fg_hit_rate": hit, "miou": miou}


def _per_image(strategy: str, hits: list[int]) -> list[dict[str, str]]:
    # 5 images, contrasts 10..50 (the lowest-contrast fifth is image 0 alone), 3 circles, 2 stars
    classes, contrasts = ["circle"] * 3 + ["star"] * 2, [10, 20, 30, 40, 50]
    return [
        {"strategy": strategy, "class": c, "fg_hit_rate": str(h), "contrast": str(k)}
        for c, h, k in zip(classes, hits, contrasts, strict=True)
    ]


def test_goal_cells_of_the_best_automatic_strategy() -> None:
    rows = [
        _row("bad", "fg", 0.2, 0.9),
        _row("good", "fg+bg", 0.6, 0.5),
        _row("tied_worse_iou", "fg", 0.6, 0.4),
        _row("oracle_interior", "oracle", 1.0, 0.75),
    ]
    per_image = _per_image("good", [0, 1, 1, 1, 0]) + _per_image("bad", [1, 0, 0, 0, 0])
    cells = goal_cells(ComparisonResults(SETTINGS, rows, per_image))
    assert len(cells) == len(GOAL_HEADER)
    assert cells == [
        "x",
        "flood_fill (classical)",
        "90.0 %",
        "`good`",
        "60.0 % [23-88]",
        "0.0 % [0-79]",
        "50.0 % [9-91] (star)",
        "0.500 / 0.750 (-0.250)",
        "0 of 4",
    ]


def test_goals_met_counts_each_bound_inclusively() -> None:
    # 100 images, contrast = index (the lowest fifth is 0..19), stars at the odd indices
    def goals_met(misses: list[int], miou: float) -> str:
        rows = [_row("good", "fg", 0.97, miou), _row("oracle_interior", "oracle", 1.0, 0.9)]
        per_image = [
            {
                "strategy": "good",
                "class": "star" if i % 2 else "circle",
                "fg_hit_rate": str(int(i not in misses)),
                "contrast": str(i),
            }
            for i in range(100)
        ]
        return goal_cells(ComparisonResults(SETTINGS, rows, per_image))[-1]

    # 97 % overall, the lowest fifth at 100 %, stars at 98 %, IoU 0.02 below: all at the bound
    assert goals_met([99], 0.88) == "4 of 4"
    rows = [_row("good", "fg", 0.97, 0.879), _row("oracle_interior", "oracle", 1.0, 0.9)]
    per_image = [
        {"strategy": "good", "class": "star" if i % 2 else "circle"}
        | {"fg_hit_rate": str(int(i not in (95, 97, 99))), "contrast": str(i)}
        for i in range(100)
    ]
    cells = goal_cells(ComparisonResults(SETTINGS, rows, per_image))
    # a value that meets its goal is bold, one that misses it is not
    assert cells[4].startswith("**97.0 %** [") and cells[5].startswith("**100.0 %** [")
    assert cells[6].startswith("94.0 % [") and cells[7].startswith("0.879 / 0.900")
    # stars at 94 % and IoU 0.021 below: only the overall rate and the lowest fifth
    assert goals_met([95, 97, 99], 0.879) == "2 of 4"


def test_goal_cells_need_the_oracle() -> None:
    results = ComparisonResults(
        SETTINGS, [_row("good", "fg", 1.0, 0.5)], _per_image("good", [1] * 5)
    )
    with pytest.raises(UserError, match="oracle_interior"):
        goal_cells(results)


def test_classifier_cell_names_the_training_length() -> None:
    scratch = {"recipe": "scratch-curriculum", "config": {"steps": 3600, "finetune_epochs": 5}}
    finetune = {"recipe": "imagenet-finetune", "config": {"steps": 1200, "finetune_epochs": 5}}
    assert classifier_cell({"test_accuracy": 0.974} | scratch) == "97.4 % (3600 steps)"
    assert classifier_cell({"test_accuracy": 0.97} | finetune) == "97.0 % (5 epochs)"
    assert classifier_cell({"test_accuracy": 0.9}) == "90.0 %"


def test_classifier_cell_prefers_the_accuracy_on_the_compared_images() -> None:
    info = {"test_accuracy": 0.9, "fingerprint": "aaaa"}
    assert classifier_cell(info, {"fingerprint": "aaaa", "classifier_accuracy": 0.9}) == "90.0 %"
    other = classifier_cell(info, {"fingerprint": "bbbb", "classifier_accuracy": 0.812})
    assert other == "81.2 % (trained on another dataset)"
    scratch = info | {"recipe": "scratch-curriculum", "config": {"steps": 1200}}
    cell = classifier_cell(scratch, {"fingerprint": "bbbb", "classifier_accuracy": 0.5})
    assert cell == "50.0 % (1200 steps, trained on another dataset)"
