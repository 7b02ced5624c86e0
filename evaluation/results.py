"""The results folder of a comparison, written by ``scripts/compare_strategies.py`` as one set
(:func:`save_results`) and read by the figures and the report (nothing is recomputed from it):

- ``metrics.json``: ``{"settings": {...}, "rows": [...]}``, one summary row per strategy (see
  :mod:`evaluation.tables`); ``metrics.csv``: its flat columns;
- ``per_image.csv``: one row per image and strategy (see :func:`evaluation.compare.add_result`);
- ``metrics.tex``: :func:`evaluation.tables.latex_table`; ``predictions.npz``: see
  :mod:`evaluation.predictions`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from common.atomic import staged_files
from common.errors import UserError
from common.jsonfile import read_json_object
from evaluation.predictions import Predictions
from evaluation.tables import AUTOMATIC_KINDS, latex_table, sort_rows

COMPARE_COMMAND = "python scripts/compare_strategies.py"
#: How figures and the report name each ``--cam-method``.
CAM_NAMES = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "layercam": "LayerCAM"}


class MissingResultsError(FileNotFoundError):
    """A file the figures or the report read is missing from the results folder."""


@dataclass
class ComparisonResults:
    """Everything one comparison run produced (in memory) or saved (read back): ``settings``
    (``config``, ``dataset``, ``classifier``, ``segmenter``, ...), the summary ``rows`` (read
    back: in table order), ``per_image`` rows (read back: strings), ``predictions`` (None when
    read without ``predictions.npz``) and the ``folder`` read from (None in memory)."""

    settings: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    per_image: list[dict[str, Any]] = field(default_factory=list)
    predictions: Predictions | None = None
    folder: Path | None = None

    @property
    def split(self) -> str:
        """The evaluated split (``"test"`` unless the run said otherwise)."""
        return str(self.settings.get("dataset", {}).get("split", "test"))

    @property
    def segmenter(self) -> str:
        """The segmenter the point strategies used."""
        return str(self.settings.get("segmenter", "unknown segmenter"))

    @property
    def cam_method(self) -> str:
        """The recorded ``--cam-method``, e.g. ``"layercam"`` (results saved before the method
        was recorded: ``"gradcam"``, the only method then)."""
        return str(self.settings.get("config", {}).get("cam_method", "gradcam"))

    @property
    def cam_name(self) -> str:
        """The heat-map method's display name, e.g. ``"LayerCAM"``."""
        return CAM_NAMES.get(self.cam_method, self.cam_method)

    @property
    def cam_description(self) -> str:
        """How the heat maps were made, e.g. ``"gradcam at layer2[-1]"`` (``"gradcam (aug_smooth)
        at layer2[-1]"`` with test-time augmentation; ``"..., moved back by (2.84, 0.78) px"``
        when the run moved them by a measured or given offset)."""
        config = self.settings.get("config", {})
        smooth = " (aug_smooth)" if config.get("cam_aug_smooth") else ""
        text = f"{self.cam_method}{smooth} at {config.get('target_layer', 'layer2[-1]')}"
        offset = self.settings.get("heat_offset") or {}
        dx, dy = float(offset.get("dx", 0.0)), float(offset.get("dy", 0.0))
        if dx or dy:
            text += f", moved back by ({dx:.2f}, {dy:.2f}) px"
        return text

    @property
    def n_images(self) -> int:
        """Number of evaluated images (0 when nothing records it)."""
        if self.predictions is not None:
            return len(self.predictions.names)
        n = self.settings.get("dataset", {}).get("n_images")
        if n is None and self.rows:
            n = self.rows[0].get("n_images")
        return int(n or 0)

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
        """float64 (N,) per-image IoU of ``strategy`` in image-index order, from the per-image
        rows (NaN where they have no value)."""
        rows = [r for r in self.per_image if r["strategy"] == strategy]
        if not rows:
            raise KeyError(f"per_image.csv has no rows for strategy {strategy!r}")
        out = np.full(self.n_images, np.nan)
        for r in rows:
            out[int(r["index"])] = float(r["iou"]) if r["iou"] not in ("", None) else np.nan
        return out

    def with_predictions(self, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Rows (in table order) whose strategy has saved masks, optionally only some kinds."""
        saved = set(self.predictions.strategies) if self.predictions is not None else set()
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


def save_results(out: Path | str, results: ComparisonResults, caption: str) -> dict[str, Path]:
    """Write every result file of ``results`` into folder ``out`` together (see the module
    docstring); ``caption`` is the LaTeX table's.

    Returns:
        The written paths by kind (``json``, ``csv``, ``per_image``, ``tex``, ``predictions``).
    """
    if results.predictions is None:
        raise ValueError("results without predictions cannot be saved as a results folder")
    rows = sort_rows(results.rows)
    names = {"json": "metrics.json", "csv": "metrics.csv", "per_image": "per_image.csv"}
    names |= {"tex": "metrics.tex", "predictions": "predictions.npz"}
    with staged_files(out) as stage:
        meta = {"settings": results.settings, "rows": rows}
        (stage / names["json"]).write_text(json.dumps(meta, indent=2, default=str) + "\n")
        flat_keys = [k for k in rows[0] if not isinstance(rows[0][k], dict | list)] if rows else []
        with (stage / names["csv"]).open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=flat_keys, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        if results.per_image:
            with (stage / names["per_image"]).open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(results.per_image[0]))
                writer.writeheader()
                writer.writerows(results.per_image)
        (stage / names["tex"]).write_text(latex_table(rows, caption))
        results.predictions.save(stage / names["predictions"])
    return {kind: Path(out) / name for kind, name in names.items()}


def load_results(
    folder: Path | str,
    required: tuple[str, ...] = ("metrics.json", "per_image.csv", "predictions.npz"),
) -> ComparisonResults:
    """Read a results folder written by ``compare_strategies.py``: the ``required`` files must be
    there (``metrics.json`` always is); ``per_image.csv`` and ``predictions.npz`` are read when
    present ([] and None otherwise).

    Raises:
        MissingResultsError: a required file is missing (named, with the command to run).
        common.UserError: a file is truncated or of an older format (named, with the command).
    """
    folder = Path(folder)
    required = tuple(dict.fromkeys(("metrics.json", *required)))
    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        raise MissingResultsError(
            f"missing {', '.join(str(folder / m) for m in missing)}: run "
            f"'{COMPARE_COMMAND} --out {folder}' first to write the comparison results"
        )
    rerun = f"rerun '{COMPARE_COMMAND} --out {folder}' to rewrite it"
    path = folder / "metrics.json"
    meta = read_json_object(path, ("rows", "settings"), "a results file of this version", rerun)
    for row in meta["rows"]:
        missing = [
            k for k in ("strategy", "kind", "miou") if not isinstance(row, dict) or k not in row
        ]
        if missing:
            raise UserError(f"{path} has a row without {', '.join(missing)}; {rerun}")
    per_image_csv, predictions_npz = folder / "per_image.csv", folder / "predictions.npz"
    per_image: list[dict[str, str]] = []
    if per_image_csv.is_file():
        with per_image_csv.open(newline="") as f:
            reader = csv.DictReader(f)
            missing = [
                c for c in ("strategy", "index", "iou") if c not in (reader.fieldnames or [])
            ]
            if missing:
                raise UserError(f"{per_image_csv} has no column {', '.join(missing)}; {rerun}")
            per_image = list(reader)
    predictions = Predictions.load(predictions_npz) if predictions_npz.is_file() else None
    return ComparisonResults(
        meta["settings"], sort_rows(meta["rows"]), per_image, predictions, folder
    )
