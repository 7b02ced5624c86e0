"""Report figures drawn from what ``scripts/compare_strategies.py`` saved (matplotlib, Agg).

Every figure function returns a pyplot-free ``matplotlib.figure.Figure``; write it with
:func:`figures_lib.style.save_figure` (PNG at 150 dpi and vector PDF). Only
:func:`figures_lib.features.feature_maps_figure` runs a model; the others read saved arrays.
"""

from figures_lib.charts import iou_distribution_figure, per_class_miou_figure, points_metrics_figure
from figures_lib.examples import (
    dataset_example_figure,
    example_grid,
    strategy_examples_figure,
    supervised_vs_best_figure,
    worst_failures_figure,
)
from figures_lib.features import feature_maps_figure
from figures_lib.gradcam import gradcam_check_figure
from figures_lib.results import ComparisonResults, MissingResultsError, load_results
from figures_lib.style import save_figure

__all__ = [
    "ComparisonResults",
    "MissingResultsError",
    "dataset_example_figure",
    "example_grid",
    "feature_maps_figure",
    "gradcam_check_figure",
    "iou_distribution_figure",
    "load_results",
    "per_class_miou_figure",
    "points_metrics_figure",
    "save_figure",
    "strategy_examples_figure",
    "supervised_vs_best_figure",
    "worst_failures_figure",
]
