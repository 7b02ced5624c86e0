"""Making every report figure from a results folder (the logic of ``scripts/make_figures.py``)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from matplotlib.figure import Figure
from torch import nn
from tqdm import tqdm

from classifier import load_or_train
from classifier.loading import classifier_config, load_classifier_checkpoint
from evaluation.results import ComparisonResults, load_results
from plots.charts import (
    PUBLIC_SOLUTION,
    classification_figure,
    classifier_curve,
    classifier_curve_figure,
    diagnostic_figure,
    has_values,
    iou_distribution_figure,
    per_class_miou_figure,
    points_metrics_figure,
)
from plots.examples import (
    TEMPLATE_INDICES,
    approach_rows_figure,
    dataset_example_figure,
    gradcam_check_figure,
    strategy_examples_figure,
    supervised_vs_best_figure,
    worst_failures_figure,
)
from plots.features import feature_maps_figure
from plots.style import pick_indices, save_figure
from shapes import CLASSES, dataset_fingerprint

#: Figure groups, in the order they are made (``--only`` takes these names).
FIGURE_GROUPS = (
    "gradcam_check",
    "examples",
    "iou_distribution",
    "per_class_miou",
    "points_metrics",
    "worst_failures",
    "supervised_vs_best",
    "dataset_example",
    "classifier_curve",
    "feature_maps",
    "contrast",
    "opacity",
    "classification",
    "report",
)
#: The test index of the dataset example (the course's example picture shows test #3).
EXAMPLE_INDEX = 3
#: The report's two approaches: foreground points only, then foreground + background points.
DEFAULT_APPROACHES = ("multiscale_heat", "multiscale_heat_bg")
#: Name of the report's compact Grad-CAM figure (the template's indices only).
REPORT_GRADCAM = "report_gradcam"


@dataclass(frozen=True)
class FigureOptions:
    """Choices of ``make_figures.py`` (its options are named after these fields)."""

    only: Sequence[str] = FIGURE_GROUPS
    worst: int = 6
    top: int = 4
    reference: bool = True
    data: Path | None = None
    classifier_preset: str | None = None
    checkpoints: Path | None = None
    feature_maps: bool = True
    approaches: Sequence[str] = DEFAULT_APPROACHES
    example_index: int = EXAMPLE_INDEX


def add_results_options(parser: argparse.ArgumentParser, approaches_help: str) -> None:
    """The options ``make_figures.py`` and ``make_report.py`` share: ``--results`` and
    ``--approaches`` (the report's two)."""
    results = "folder written by compare_strategies.py --out"
    parser.add_argument("--results", type=Path, default=Path("figures"), help=results)
    two = {"nargs": 2, "metavar": ("FG", "FGBG"), "default": list(DEFAULT_APPROACHES)}
    parser.add_argument("--approaches", **two, help=approaches_help)


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def load_classifier(results: ComparisonResults, options: FigureOptions) -> nn.Module | None:
    """The run's classifier: the checkpoint file the run was given or recorded (when it is still
    there; checked against the dataset the run recorded it was trained on), else
    ``load_or_train`` with the run's preset and checkpoint folder on the dataset it was trained
    on (``--classifier-data``, else the compared one; None, with a note, when the compared
    dataset is not available)."""
    config = results.settings.get("config", {})
    root = options.data or Path(results.settings.get("dataset", {}).get("path", ""))
    if not (root / "images").is_dir():
        _note(f"skipping feature_maps: no dataset at '{root}' (pass --data)")
        return None
    recorded = results.settings.get("classifier", {}).get("checkpoint")
    if config.get("classifier_checkpoint") or (recorded and Path(recorded).is_file()):
        path = Path(config.get("classifier_checkpoint") or recorded)
        trained_on = results.settings.get("classifier", {}).get("fingerprint")
        _note(f"feature_maps: loading the run's classifier checkpoint {path}")
        model, _ = load_classifier_checkpoint(path, trained_on or dataset_fingerprint(root))
        return model
    preset = options.classifier_preset or config.get("classifier_preset", "default")
    checkpoints = options.checkpoints or Path(config.get("checkpoints", "checkpoints"))
    own = Path(config["classifier_data"]) if config.get("classifier_data") else root
    _note(
        f"feature_maps: loading the {preset!r} classifier for {own} from {checkpoints} "
        "(trained first if not cached)"
    )
    model, _ = load_or_train(own, classifier_config(preset), cache_dir=checkpoints)
    return model


def build_figures(
    results: ComparisonResults,
    options: FigureOptions,
    model: nn.Module | None = None,
) -> dict[str, Callable[[], Figure]]:
    """{file name: function drawing it} for the selected groups that apply to these results;
    the others (no supervised rows, no learning curve, no ``model``) are left out with a note."""
    unknown = set(options.only) - set(FIGURE_GROUPS)
    if unknown:
        raise ValueError(f"unknown figure(s) {sorted(unknown)}; expected some of {FIGURE_GROUPS}")
    reference = PUBLIC_SOLUTION if options.reference else None
    want, n = set(options.only), results.n_images
    jobs: dict[str, Callable[[], Figure]] = {}
    if "gradcam_check" in want:
        _, skipped = pick_indices(TEMPLATE_INDICES, n)
        if skipped:
            split = f"the {results.split} split has {n} images"
            _note(f"gradcam_check: skipping index(es) {skipped}, {split}")
        jobs["gradcam_check"] = partial(gradcam_check_figure, results)
    if "examples" in want:
        for row in results.with_predictions():
            name = row["strategy"]
            stem = f"examples_{file_stem(name)}"
            if stem in jobs:
                raise ValueError(f"strategies {name!r} and another map to the same file {stem}")
            jobs[stem] = partial(strategy_examples_figure, results, name)
    charts = {
        "iou_distribution": partial(iou_distribution_figure, results, reference),
        "per_class_miou": partial(per_class_miou_figure, results, options.top),
        "points_metrics": partial(points_metrics_figure, results, reference),
        "worst_failures": partial(worst_failures_figure, results, n=options.worst),
    }
    jobs |= {name: draw for name, draw in charts.items() if name in want}
    if "supervised_vs_best" in want:
        if results.with_predictions(("supervised",)):
            jobs["supervised_vs_best"] = partial(supervised_vs_best_figure, results)
        else:
            _note("skipping supervised_vs_best: the results have no supervised rows")
    if "dataset_example" in want:
        if n <= EXAMPLE_INDEX:
            _note(f"skipping dataset_example: the split has only {n} images")
        else:
            if results.split != "test":
                shown = f"#{EXAMPLE_INDEX} of the {results.split} split"
                _note(f"dataset_example shows {shown}, not of test")
            jobs["dataset_example"] = partial(dataset_example_figure, results, EXAMPLE_INDEX)
    if "classifier_curve" in want:
        if classifier_curve(results) is not None:
            jobs["classifier_curve"] = partial(classifier_curve_figure, results)
        else:
            _note("skipping classifier_curve: metrics.json has no classifier learning curve")
    if "feature_maps" in want and options.feature_maps and model is not None:
        jobs["feature_maps"] = partial(_feature_maps, results, model)
    for column in [c for c in ("contrast", "opacity") if c in want]:
        if has_values(results, column):
            jobs[f"{column}_diagnostics"] = partial(diagnostic_figure, results, column, options.top)
        else:
            why = " (the dataset records no opacities)" if column == "opacity" else ""
            _note(f"skipping {column}: per_image.csv has no {column} values{why}")
    if "classification" in want:
        if has_values(results, "predicted"):
            jobs["classification"] = partial(classification_figure, results, options.top)
        else:
            _note("skipping classification: per_image.csv has no predicted classes")
    if "report" in want:  # the report's compact figures
        if pick_indices(TEMPLATE_INDICES, n)[0]:
            compact = partial(gradcam_check_figure, results, per_class=False, panel_size=1.3)
            jobs[REPORT_GRADCAM] = compact
        else:
            none = f"the split has none of the indices {TEMPLATE_INDICES}"
            _note(f"skipping {REPORT_GRADCAM}: {none}")
        examples = report_examples_name(options.approaches)
        missing = [a for a in options.approaches if a not in results.predictions.pred]
        if missing:
            saved = ", ".join(results.predictions.strategies)
            _note(f"skipping {examples}: no saved masks for {', '.join(missing)} (saved: {saved})")
        else:
            index = options.example_index if options.example_index < n else 0
            jobs[examples] = partial(approach_rows_figure, results, options.approaches, index)
    return jobs


def report_examples_name(approaches: Sequence[str]) -> str:
    """Name of the report's examples figure for ``approaches``:
    ``report_examples-multiscale_heat-multiscale_heat_bg``."""
    return "-".join(["report_examples", *(file_stem(a) for a in approaches)])


def file_stem(name: str) -> str:
    """A file-name-safe form of a strategy name: ``"flood_heat [select=cam, refine]"`` ->
    ``"flood_heat-select_cam-refine"``."""
    parts = re.split(r"[^A-Za-z0-9_.+-]+", name.replace("=", "_"))
    return "-".join(p for p in parts if p) or "unnamed"


def _feature_maps(results: ComparisonResults, model: nn.Module) -> Figure:
    index = EXAMPLE_INDEX if results.n_images > EXAMPLE_INDEX else 0
    pred = results.predictions
    label = int(pred.classes[index])
    description = f"{results.split} #{index} ({CLASSES[label]})"
    return feature_maps_figure(model, pred.images[index], label, description=description)


def make_figures(
    results_dir: Path, out_dir: Path, options: FigureOptions = FigureOptions()
) -> dict[str, list[Path]]:
    """Load ``results_dir``, draw the selected figures and save each as PNG and PDF in
    ``out_dir``; returns {figure name: [png path, pdf path]}.

    Raises:
        MissingResultsError: a results file is missing (the message names the command to run).
    """
    results = load_results(results_dir)
    model = None
    if "feature_maps" in options.only and options.feature_maps:
        model = load_classifier(results, options)
    jobs = build_figures(results, options, model)
    return {
        name: save_figure(draw(), out_dir, name)
        for name, draw in tqdm(jobs.items(), desc="figures")
    }
