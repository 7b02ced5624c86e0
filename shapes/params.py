"""``shape_params.csv``: what a generated dataset knows about each shape it drew.

A generation writes it beside ``generation.json``, one row per image::

    split,stem,class,alpha,red,green,blue
    test,00000,circle,0.7312,12,200,31

``alpha`` is the shape's opacity in 0..1 (1 = opaque), ``red``/``green``/``blue`` its colour
(0..255) before blending. The course's own dataset has no such file. The file is not part of
the dataset's fingerprint.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.errors import UserError

PARAMS_FILE = "shape_params.csv"
COLUMNS = ("split", "stem", "class", "alpha", "red", "green", "blue")


def stem_width(n: int) -> int:
    """Digits of the file stems of a split of ``n`` images (at least 5: ``00000``)."""
    return max(5, len(str(n)))


def params_rows(
    split: str, classes: Sequence[str], alphas: np.ndarray, colours: np.ndarray
) -> list[dict[str, str | int | float]]:
    """Rows of ``shape_params.csv`` for one split: class names (N,), alphas float (N,) and
    colours uint8 (N, 3), in image order (stems as :func:`stem_width` numbers them)."""
    width = stem_width(len(alphas))
    return [
        {
            "split": split,
            "stem": f"{i:0{width}d}",
            "class": classes[i],
            "alpha": round(float(alphas[i]), 6),
            **{name: int(c) for name, c in zip(("red", "green", "blue"), colours[i], strict=True)},
        }
        for i in range(len(alphas))
    ]


def write_params(root: Path, rows: list[dict[str, str | int | float]]) -> Path:
    """Write ``rows`` (see :func:`params_rows`) to ``root / shape_params.csv``."""
    path = root / PARAMS_FILE
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_opacity(root: Path | str, split: str, stems: Sequence[str]) -> np.ndarray | None:
    """Opacity of the shape in each image ``stems`` of ``split``, from ``shape_params.csv``.

    Returns:
        float64 (len(stems),) in 0..1, NaN for a stem the file does not list; None when the
        dataset has no ``shape_params.csv`` (e.g. the course's own data).

    Raises:
        common.UserError: the file exists but lacks a column or holds a non-number (named).
    """
    path = Path(root) / PARAMS_FILE
    if not path.is_file():
        return None
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("split", "stem", "alpha") if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(f"{path} has no column {', '.join(missing)}")
        alpha: dict[str, float] = {}
        for line, row in enumerate(reader, start=2):
            if row["split"] != split:
                continue
            try:
                alpha[row["stem"]] = float(row["alpha"])
            except ValueError as exc:
                raise UserError(f"{path} line {line}: alpha {row['alpha']!r} is no number") from exc
    return np.array([alpha.get(s, np.nan) for s in stems], dtype=np.float64)
