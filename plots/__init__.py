"""The report's figures and the report itself, drawn from what ``scripts/compare_strategies.py``
saved (matplotlib, Agg; read with :func:`evaluation.results.load_results`).

Every figure function returns a pyplot-free ``matplotlib.figure.Figure``; write it with
:func:`plots.style.save_figure` (PNG at 150 dpi and vector PDF). Only
:func:`plots.features.feature_maps_figure` runs a model; the others read saved arrays.
"""

from plots.charts import iou_distribution_figure, per_class_miou_figure, points_metrics_figure
from plots.examples import (
    dataset_example_figure,
    example_grid,
    strategy_examples_figure,
    supervised_vs_best_figure,
    worst_failures_figure,
)
from plots.features import feature_maps_figure
from plots.gradcam import gradcam_check_figure
from plots.style import save_figure

__all__ = [
    "dataset_example_figure",
    "example_grid",
    "feature_maps_figure",
    "gradcam_check_figure",
    "iou_distribution_figure",
    "per_class_miou_figure",
    "points_metrics_figure",
    "save_figure",
    "strategy_examples_figure",
    "supervised_vs_best_figure",
    "worst_failures_figure",
]
