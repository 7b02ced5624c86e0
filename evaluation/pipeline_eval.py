"""Evaluating a CAM prompt pipeline on a dataset, as the notebook does (the template's loader)."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from shapes import CLASSES


def evaluate_pipeline(
    pipeline: Any, dataset: Dataset, batch_size: int = 5, limit: int | None = None
) -> dict[str, Any]:
    """Run ``pipeline`` over ``dataset`` and score its points and masks.

    Args:
        pipeline: a ``ForegroundPointsPipeline`` / ``ForegroundBackgroundPointsPipeline`` (needs
            ``prompts(images)`` and ``segment_uint8``), segmenting exactly as its ``__call__``.
        dataset: yields (normalised image (3, H, W), label, bool mask (H, W)), like the
            template's ``SyntheticData`` with its transform.
        batch_size: the template's evaluation batch size is 5.
        limit: evaluate only the first ``limit`` images.

    Returns:
        a row for :mod:`evaluation.tables` (``strategy``, ``kind``, ``segmenter``, ``n_images``
        and every :func:`metrics.summarize_run` number) plus the arrays under ``"arrays"``:
        images uint8 (N, H, W, 3), cams, coords (N, K, 2) (X, Y), point labels, predicted and
        ground-truth masks.
    """
    from metrics import summarize_run

    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("images", "cams", "coords", "labels", "pred", "gt", "classes")
    }
    seen = 0
    for images, classes, masks in tqdm(loader, desc=f"evaluating {pipeline.strategy.name}"):
        if limit is not None and seen >= limit:
            break
        p = pipeline.prompts(images)
        pred = pipeline.segment_uint8(p.images, p.coords, p.labels, cams=p.cams).masks
        for key, value in (
            ("images", p.images),
            ("cams", p.cams),
            ("coords", p.coords),
            ("labels", p.labels),
            ("pred", pred),
            ("gt", np.asarray(masks)),
            ("classes", np.asarray(classes)),
        ):
            parts[key].append(value)
        seen += len(images)
    arrays = {k: np.concatenate(v)[:limit] for k, v in parts.items()}
    summary = summarize_run(
        arrays["coords"],
        arrays["labels"],
        arrays["gt"].astype(bool),
        arrays["pred"],
        arrays["classes"],
        CLASSES,
    )
    return {
        "strategy": pipeline.strategy.name,
        "kind": pipeline.approach,
        "segmenter": pipeline.segmenter_name,
        "n_images": len(arrays["gt"]),
        **summary,
        "arrays": arrays,
    }


def to_comparison_results(results: list[dict[str, Any]], segmenter: str, split: str = "test"):
    """Package :func:`evaluate_pipeline` outputs (same dataset) like a saved comparison run,
    so the figure functions of :mod:`figures_lib` can draw them."""
    from pathlib import Path

    from evaluation.compare import SplitData, per_image_rows
    from evaluation.predictions import Predictions
    from figures_lib.results import ComparisonResults

    first = results[0]["arrays"]
    n = len(first["gt"])
    names = tuple(f"{i:05d}" for i in range(n))
    data = SplitData(
        first["images"], first["classes"], first["gt"].astype(bool), names, first["cams"]
    )
    predictions = Predictions(np.array(names), data.images, data.masks, data.labels, data.cams)
    per_image: list[dict[str, Any]] = []
    for r in results:
        a = r["arrays"]
        predictions.add(r["strategy"], a["coords"], a["labels"], a["pred"])
        per_image += per_image_rows(
            r["strategy"], r["kind"], r["segmenter"], data, a["coords"], a["labels"], a["pred"]
        )
    settings = {"segmenter": segmenter, "dataset": {"split": split, "n_images": n}}
    rows = [{k: v for k, v in r.items() if k != "arrays"} for r in results]
    per_image_str = [{k: str(v) for k, v in row.items()} for row in per_image]
    return ComparisonResults(Path("."), settings, rows, per_image_str, predictions)
