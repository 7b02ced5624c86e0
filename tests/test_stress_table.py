"""scripts/stress_table.py: the goals row of a comparison run folder, on a hand-made run."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from stress_table import goal_row

from common.errors import UserError

FIELDS = ["image", "class", "strategy", "kind", "fg_hit_rate", "iou", "contrast"]


def _run(folder: Path, rows: list[tuple]) -> Path:
    folder.mkdir()
    settings = {"dataset": {"path": "data/stress/x"}, "classifier": {"test_accuracy": 0.9}}
    (folder / "metrics.json").write_text(json.dumps({"settings": settings, "rows": []}))
    with (folder / "per_image.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        w.writerows(rows)
    return folder


def test_goal_row_picks_the_best_automatic_strategy(tmp_path: Path) -> None:
    # 5 images, contrasts 10..50: the lowest-contrast fifth is image 0 alone
    rows = []
    classes, contrasts = ["circle"] * 3 + ["star"] * 2, [10, 20, 30, 40, 50]
    for i, (cls, c) in enumerate(zip(classes, contrasts, strict=True)):
        rows.append((i, cls, "good", "fg", int(i != 0 and i != 4), 0.5, c))
        rows.append((i, cls, "bad", "fg", int(i == 0), 0.1, c))
        rows.append((i, cls, "oracle_interior", "oracle", 1, 0.75, c))
    row = goal_row(_run(tmp_path / "run", rows))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells == [
        "x",
        "90.0 %",
        "`good`",
        "60.0 %",
        "0.0 %",
        "50.0 % (star)",
        "0.500 / 0.750 (-0.250)",
    ]


def test_goal_row_needs_the_oracle(tmp_path: Path) -> None:
    run = _run(tmp_path / "run", [(0, "circle", "good", "fg", 1, 0.5, 10)])
    with pytest.raises(UserError, match="oracle_interior"):
        goal_row(run)
