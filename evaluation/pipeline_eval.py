"""Evaluating a ``BasicSamPipeline`` on a dataset, exactly as it runs: the points scored are the
ones its ``__call__`` sent to the predictor (``pipeline.last_prompts``).

The submission notebook inlines this module; it imports nothing from the project except the
modules the notebook inlines before it (``metrics.iou``, ``metrics.summary``,
``shapes.transforms``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from metrics.iou import iou_per_image
from metrics.summary import summarize_run
from shapes.transforms import to_uint8_images


def evaluate_pipeline(
    pipeline: Any,
    dataset: Dataset,
    class_names: Sequence[str],
    name: str | None = None,
    batch_size: int = 5,
    limit: int | None = None,
) -> dict[str, Any]:
    """Run ``pipeline`` (a ``BasicSamPipeline``: ``pipeline(images)`` returns bool (B, H, W) and
    leaves its prompts in ``last_prompts``) over the first ``limit`` images of ``dataset``
    (yields normalised image (3, H, W), class index, bool mask (H, W)) in batches of
    ``batch_size`` (the template's is 5), and score its points and masks.

    Returns:
        a row for :mod:`evaluation.tables` named ``name`` (default: the pipeline's class name):
        ``strategy``, ``kind`` (``fg`` or ``fg+bg``), ``segmenter``, ``n_images`` and every
        :func:`metrics.summary.summarize_run` number (per class by ``class_names``), plus
        ``"arrays"``: ``images`` uint8 (N, H, W, 3), ``cams`` float32 (N, H, W) (None without
        heat maps), ``coords`` int64 (N, K, 2) as (X, Y), ``labels`` int64 (N, K), ``pred`` and
        ``gt`` bool (N, H, W), ``classes``.
    """
    if limit is not None:
        dataset = Subset(dataset, range(min(limit, len(dataset))))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    name = name or type(pipeline).__name__
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("images", "cams", "coords", "labels", "pred", "gt", "classes")
    }
    for images, classes, masks in tqdm(loader, desc=f"evaluating {name}"):
        pipeline.last_cams = None
        pred = np.asarray(pipeline(images), dtype=bool)
        coords, labels = pipeline.last_prompts
        gt, cams = np.asarray(masks, dtype=bool), pipeline.last_cams
        batch = (to_uint8_images(images), cams, coords, labels, pred, gt, np.asarray(classes))
        for key, value in zip(parts, batch, strict=True):
            parts[key].append(value)
    arrays: dict[str, Any] = {
        k: None if any(v is None for v in vs) else np.concatenate(vs) for k, vs in parts.items()
    }
    keys = ("coords", "labels", "gt", "pred", "classes")
    summary = summarize_run(*(arrays[k] for k in keys), class_names)
    return {
        "strategy": name,
        "kind": "fg+bg" if (arrays["labels"] == 0).any() else "fg",
        "segmenter": pipeline.segmenter_name,
        "n_images": len(arrays["gt"]),
        **summary,
        "arrays": arrays,
    }


def examples_figure(result: dict[str, Any], indices: Sequence[int] = (0, 1, 2, 3)) -> Figure:
    """A row per image of an :func:`evaluate_pipeline` result at ``indices`` (positions past
    the end are skipped): the image with its points (green foreground, red background), the heat
    map, the predicted and the true mask."""
    a = result["arrays"]
    rows = [i for i in indices if i < len(a["gt"])]
    ious = iou_per_image(a["pred"][rows], a["gt"][rows])
    fig, axes = plt.subplots(len(rows), 4, figsize=(8, 1.6 * len(rows) + 0.4), squeeze=False)
    fig.suptitle(f"{result['strategy']} (segmenter: {result['segmenter']})")
    for ax_row, i, iou in zip(axes, rows, ious, strict=True):
        ax_row[0].imshow(a["images"][i])
        for label, colour in ((1, "lime"), (0, "red")):
            pts = a["coords"][i][a["labels"][i] == label]
            ax_row[0].scatter(pts[:, 0], pts[:, 1], s=40, c=colour, marker="*", edgecolors="k")
        if a["cams"] is not None:
            ax_row[1].imshow(a["cams"][i], cmap="jet", vmin=0, vmax=1)
        ax_row[2].imshow(a["pred"][i], cmap="gray")
        ax_row[3].imshow(a["gt"][i], cmap="gray")
        titles = ("image + points", "heat map", f"prediction (IoU {iou:.2f})", "ground truth")
        for ax, title in zip(ax_row, titles, strict=True):
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return fig
