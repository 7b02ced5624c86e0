"""Writing a comparison's result files as one set.

metrics.json, metrics.csv, per_image.csv, metrics.tex and predictions.npz are written into a
temporary folder inside ``--out`` and renamed into place only when all of them are written, so
a failure never leaves new metrics beside old predictions (see :func:`common.atomic.staged_files`).
"""

from __future__ import annotations

from pathlib import Path

from common.atomic import staged_files
from evaluation.compare import ComparisonResult
from evaluation.tables import write_results


def save_comparison(out: Path, result: ComparisonResult, caption: str) -> dict[str, Path]:
    """Write every result file of ``result`` into folder ``out`` together.

    Returns:
        The written paths by kind (``json``, ``csv``, ``per_image``, ``tex``, ``predictions``).
    """
    with staged_files(out) as stage:
        staged = write_results(stage, result.rows, result.per_image, result.settings, caption)
        staged["predictions"] = result.predictions.save(stage / "predictions.npz")
    return {kind: Path(out) / path.name for kind, path in staged.items()}
