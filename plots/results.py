"""Reading what ``scripts/compare_strategies.py`` wrote, for the figures (nothing is recomputed).

Files in the results folder:

- ``metrics.json``: ``{"settings": {...}, "rows": [...]}``, one summary row per strategy;
- ``per_image.csv``: one row per image and strategy (``iou`` empty when not measured);
- ``predictions.npz``: images, ground-truth masks, CAMs, and per strategy its points (X, Y) and
  predicted masks (see :mod:`evaluation.predictions`).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UserError
from evaluation.predictions import Predictions
from evaluation.tables import AUTOMATIC_KINDS, sort_rows

RESULT_FILES = ("metrics.json", "per_image.csv", "predictions.npz")
COMPARE_COMMAND = "python scripts/compare_strategies.py"
ROW_KEYS = ("strategy", "kind", "miou")
PER_IMAGE_COLUMNS = ("strategy", "index", "iou")


class MissingResultsError(FileNotFoundError):
    """A file the figures read is missing from the results folder."""


def _float_or_nan(value: str) -> float:
    return float(value) if value not in ("", None) else math.nan


@dataclass
class ComparisonResults:
    """Everything one comparison run saved.

    Attributes:
        folder: where the files were read from.
        settings: ``metrics.json``'s settings (``segmenter``, ``dataset``, ``classifier``,
            ``config``).
        rows: the summary rows, sorted as in the report table (automatic by mean IoU, then
            oracle, then supervised).
        per_image: ``per_image.csv`` as a list of dicts of strings.
        predictions: the arrays of ``predictions.npz``.
    """

    folder: Path
    settings: dict[str, Any]
    rows: list[dict[str, Any]]
    per_image: list[dict[str, str]]
    predictions: Predictions

    @property
    def split(self) -> str:
        """The evaluated split (``"test"`` unless the run said otherwise)."""
        return str(self.settings.get("dataset", {}).get("split", "test"))

    @property
    def segmenter(self) -> str:
        """The segmenter the point strategies used."""
        return str(self.settings.get("segmenter", "unknown segmenter"))

    @property
    def n_images(self) -> int:
        """Number of evaluated images."""
        return len(self.predictions.names)

    def caption(self, segmenter: bool = True) -> str:
        """e.g. ``"test split, 500 images, segmenter: sam vit_b"`` (a title's second line)."""
        text = f"{self.split} split, {self.n_images} images"
        return f"{text}, segmenter: {self.segmenter}" if segmenter else text

    def row(self, strategy: str) -> dict[str, Any]:
        """The summary row of ``strategy``.

        Raises:
            KeyError: no row has that name (the message lists the known ones).
        """
        for r in self.rows:
            if r["strategy"] == strategy:
                return r
        raise KeyError(
            f"no row for strategy {strategy!r}; known: "
            f"{', '.join(r['strategy'] for r in self.rows)}"
        )

    def ious(self, strategy: str) -> np.ndarray:
        """float64 (N,) per-image IoU of ``strategy`` in image-index order, from per_image.csv
        (NaN where the CSV has no value)."""
        out = np.full(self.n_images, np.nan)
        found = False
        for r in self.per_image:
            if r["strategy"] == strategy:
                out[int(r["index"])] = _float_or_nan(r["iou"])
                found = True
        if not found:
            raise KeyError(f"per_image.csv has no rows for strategy {strategy!r}")
        return out

    def with_predictions(self, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Rows (in table order) whose strategy has saved masks, optionally only some kinds."""
        saved = set(self.predictions.strategies)
        return [
            r for r in self.rows if r["strategy"] in saved and (kinds is None or r["kind"] in kinds)
        ]

    def best_automatic(self) -> dict[str, Any]:
        """The label-free (kind ``fg`` or ``fg+bg``) row with saved masks and the highest mIoU.

        Raises:
            ValueError: the run has no such row.
        """
        rows = [r for r in self.with_predictions(AUTOMATIC_KINDS) if r.get("miou") is not None]
        if not rows:
            raise ValueError("the results hold no automatic (fg / fg+bg) strategy with masks")
        return max(rows, key=lambda r: r["miou"])


def missing_result_files(folder: Path) -> list[str]:
    """Names of :data:`RESULT_FILES` that are not in ``folder``."""
    return [name for name in RESULT_FILES if not (Path(folder) / name).is_file()]


def load_results(folder: Path | str) -> ComparisonResults:
    """Read a results folder written by ``compare_strategies.py``.

    Raises:
        MissingResultsError: a file is missing; the message names it and the command to run.
        common.UserError: a file is truncated or of an older format (named, with the command
            that rewrites it).
    """
    folder = Path(folder)
    missing = missing_result_files(folder)
    if missing:
        raise MissingResultsError(
            f"missing {', '.join(str(folder / m) for m in missing)}: run "
            f"'{COMPARE_COMMAND} --out {folder}' first to write the comparison results"
        )
    rerun = f"rerun '{COMPARE_COMMAND} --out {folder}' to rewrite it"
    metrics = folder / "metrics.json"
    try:
        meta = json.loads(metrics.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"cannot read {metrics}: {exc} (truncated?); {rerun}") from exc
    if not isinstance(meta, dict) or "rows" not in meta or "settings" not in meta:
        keys = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        raise UserError(
            f"{metrics} is not a results file of this version (it needs 'rows' and 'settings', "
            f"found {keys}); {rerun}"
        )
    for row in meta["rows"]:
        missing = [k for k in ROW_KEYS if not isinstance(row, dict) or k not in row]
        if missing:
            raise UserError(f"{metrics} has a row without {', '.join(missing)}; {rerun}")
    per_image_csv = folder / "per_image.csv"
    with per_image_csv.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in PER_IMAGE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(f"{per_image_csv} has no column {', '.join(missing)}; {rerun}")
        per_image = list(reader)
    predictions = Predictions.load(folder / "predictions.npz")
    return ComparisonResults(
        folder, meta["settings"], sort_rows(meta["rows"]), per_image, predictions
    )
