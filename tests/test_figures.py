"""plots and scripts/make_figures.py on a tiny fake result set (no trained model needed)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import PIL.Image
import pytest
import torch
from fake_results import FAKE_STRATEGIES, write_fake_results

from evaluation.results import MissingResultsError, load_results
from plots.charts import (
    bounded_density,
    classification_figure,
    classified_right,
    classifier_curve_figure,
    iou_distribution_figure,
    per_class_miou_figure,
    points_metrics_figure,
    select_rows,
)
from plots.examples import (
    EXAMPLE_COLUMNS,
    dataset_example_figure,
    example_rows,
    gradcam_check_figure,
    strategy_examples_figure,
    supervised_vs_best_figure,
    worst_failures_figure,
    worst_indices,
)
from plots.features import feature_maps_figure
from plots.make import FigureOptions, make_figures
from plots.style import PNG_DPI, first_of_each_class, pick_indices, save_figure
from shapes import CLASSES

REPO = Path(__file__).resolve().parents[1]
N_IMAGES = 12


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_results(tmp_path_factory.mktemp("results"), n_images=N_IMAGES, seed=1)


@pytest.fixture(scope="module")
def results(results_dir: Path):
    return load_results(results_dir)


def assert_saved(fig, tmp_path: Path, name: str) -> tuple[int, int]:
    """Save ``fig``; check both files are non-empty and the PNG has figsize * 150 dpi pixels."""
    png, pdf = save_figure(fig, tmp_path, name)
    assert png.stat().st_size > 1000 and pdf.stat().st_size > 1000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    width, height = fig.get_size_inches() * PNG_DPI
    with PIL.Image.open(png) as im:
        assert im.size == (round(width), round(height))
        pixels = np.asarray(im.convert("L"))
    assert pixels.std() > 10, "the picture is (nearly) blank"
    return im.size


# ------------------------------------------------------------------------------ fake results
def test_fake_results_follow_the_comparison_format(results_dir: Path, results) -> None:
    meta = json.loads((results_dir / "metrics.json").read_text())
    assert meta["settings"]["dataset"]["split"] == "test"
    assert {r["kind"] for r in meta["rows"]} == {"fg", "fg+bg", "oracle", "supervised"}
    for row in meta["rows"]:
        assert set(row["per_class_miou"]) <= set(CLASSES)
        assert 0.0 <= row["miou"] <= 1.0
    assert len(results.per_image) == N_IMAGES * len(FAKE_STRATEGIES)
    pred = results.predictions
    assert pred.strategies == [s.name for s in FAKE_STRATEGIES]
    assert pred.images.shape == (N_IMAGES, 48, 64, 3) and pred.images.dtype == np.uint8
    assert pred.coords["supervised_fpn"].shape == (N_IMAGES, 0, 2)
    assert pred.coords["cam_argmax_corner_bg"].shape == (N_IMAGES, 2, 2)
    # per-image IoUs read back from the CSV agree with the saved masks
    from metrics import iou_per_image

    np.testing.assert_allclose(
        results.ious("cam_argmax"), iou_per_image(pred.pred["cam_argmax"], pred.gt_masks)
    )


def test_fake_results_can_use_a_generated_dataset(tmp_path: Path) -> None:
    from shapes.backgrounds import BackgroundBank
    from shapes.generate import GenerationConfig, generate_dataset

    rng = np.random.default_rng(0)
    bank = BackgroundBank(
        rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8),
        rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8),
        "noise",
    )
    root = generate_dataset(
        tmp_path / "ds", bank, GenerationConfig(sizes={"test": 6}), progress=False
    )
    loaded = load_results(write_fake_results(tmp_path / "res", n_images=4, data_root=root))
    assert loaded.n_images == 4
    assert loaded.settings["dataset"]["path"] == str(root)


# ------------------------------------------------------------------------------ loading
def test_missing_results_name_the_file_and_the_command(tmp_path: Path, results_dir: Path) -> None:
    with pytest.raises(MissingResultsError, match=r"metrics\.json.*compare_strategies\.py"):
        load_results(tmp_path)
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("metrics.json", "per_image.csv"):
        (partial / name).write_bytes((results_dir / name).read_bytes())
    with pytest.raises(MissingResultsError) as info:
        load_results(partial)
    assert "predictions.npz" in str(info.value) and "metrics.json" not in str(info.value)


def test_best_automatic_is_the_highest_label_free_miou(results) -> None:
    auto = [r for r in results.rows if r["kind"] in ("fg", "fg+bg")]
    assert results.best_automatic()["miou"] == max(r["miou"] for r in auto)
    assert results.best_automatic()["kind"] in ("fg", "fg+bg")


# ------------------------------------------------------------------------------ helpers
def test_pick_indices_and_first_of_each_class() -> None:
    assert pick_indices([3, 10, 42], 12) == ([3, 10], [42])
    assert first_of_each_class(np.array([2, 0, 2, 4, 0]), 5) == [1, 0, 3]


def test_worst_indices_skips_nan_and_breaks_ties_by_index() -> None:
    ious = np.array([0.5, 0.0, np.nan, 0.0, 0.9])
    assert worst_indices(ious, 3) == [1, 3, 0]
    assert worst_indices(ious, 10) == [1, 3, 0, 4]


def test_bounded_density_stays_in_0_1_and_shows_both_modes() -> None:
    values = np.array([0.0] * 40 + [1.0] * 60 + [0.5] * 5)
    coords, density = bounded_density(values)
    assert coords.min() == 0.0 and coords.max() == 1.0
    assert density.max() == pytest.approx(1.0)
    middle = density[(coords > 0.3) & (coords < 0.7)].max()
    assert density[coords < 0.1].max() > 3 * middle and density[coords > 0.9].max() > 3 * middle


def test_select_rows_keeps_top_automatic_best_oracle_and_supervised(results) -> None:
    rows = select_rows(results, top=1)
    assert [r["kind"] for r in rows] == [
        "fg" if rows[0]["kind"] == "fg" else "fg+bg",
        "oracle",
        "supervised",
    ]
    assert rows[0]["strategy"] == results.best_automatic()["strategy"]


def test_report_style_leaves_global_rcparams_alone(results) -> None:
    before = matplotlib.rcParams["font.size"]
    points_metrics_figure(results)
    assert matplotlib.rcParams["font.size"] == before


# ------------------------------------------------------------------------------ figures
def test_gradcam_check_skips_indices_past_the_split(results, tmp_path: Path) -> None:
    fig = gradcam_check_figure(results)
    n_rows = 2 + len(set(results.predictions.classes.tolist()))  # #3, #10 (#42 skipped)
    assert len(fig.axes) == 4 * n_rows
    assert "42" in fig._supxlabel.get_text()  # the skipped index is named under the figure
    assert "test split" in fig._suptitle.get_text()
    assert_saved(fig, tmp_path, "gradcam_check")
    with pytest.raises(ValueError, match="none of the indices"):
        gradcam_check_figure(results, indices=[99], per_class=False)


def test_strategy_examples_draw_points_in_x_y_order(results, tmp_path: Path) -> None:
    name = "cam_argmax_corner_bg"
    fig = strategy_examples_figure(results, name)
    rows = first_of_each_class(results.predictions.classes, len(CLASSES))
    assert len(fig.axes) == len(rows) * len(EXAMPLE_COLUMNS)
    assert name in fig._suptitle.get_text() and "fake-segmenter" in fig._suptitle.get_text()
    points_ax = fig.axes[2]  # first row, points column
    drawn = np.concatenate([c.get_offsets() for c in points_ax.collections])
    coords = results.predictions.coords[name][rows[0]]
    np.testing.assert_array_equal(np.sort(drawn, axis=0), np.sort(coords, axis=0))
    assert_saved(fig, tmp_path, "examples")


def test_every_saved_strategy_has_an_examples_figure(results, tmp_path: Path) -> None:
    for name in results.predictions.strategies:
        assert_saved(strategy_examples_figure(results, name), tmp_path, f"examples_{name}")


def test_example_rows_rejects_unknown_strategy_and_bad_indices(results) -> None:
    with pytest.raises(KeyError, match="nope"):
        example_rows(results, [("nope", 0, None)], "t")
    with pytest.raises(ValueError):
        example_rows(results, [("cam_argmax", N_IMAGES, None)], "t")
    with pytest.raises(ValueError):
        example_rows(results, [], "t")


def test_chart_figures(results, tmp_path: Path) -> None:
    fig = iou_distribution_figure(results)
    ticks = fig.axes[0].get_yticklabels()  # top to bottom = table order
    labels = [t.get_text() for t in sorted(ticks, key=lambda t: -t.get_position()[1])]
    assert labels == [r["strategy"] for r in results.rows]
    assert_saved(fig, tmp_path, "iou_distribution")

    fig = per_class_miou_figure(results, top=2)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [*CLASSES, "all"]
    assert_saved(fig, tmp_path, "per_class_miou")

    fig = points_metrics_figure(results)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "supervised_fpn" not in labels and "oracle_inner_point" in labels
    assert len(fig.axes) == 3
    assert_saved(fig, tmp_path, "points_metrics")


def test_per_class_miou_legend_stays_inside_the_figure_with_long_names(results) -> None:
    long = [
        r | {"strategy": f"{r['strategy']}_bg [select=reject_large, refine]"} for r in results.rows
    ]
    fig = per_class_miou_figure(dataclasses.replace(results, rows=long), top=4)
    fig.canvas.draw()
    box = fig.legends[0].get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1


def test_classification_figure_splits_by_the_predicted_class(results, tmp_path: Path) -> None:
    from plots.charts import per_image_values

    right = classified_right(results)
    assert 0 < right.sum() < len(right)  # the fake classifier errs where its CAM misses
    fig = classification_figure(results, top=2)
    hit_ax = fig.axes[0]
    labels = [t.get_text() for t in hit_ax.get_yticklabels()]  # in row order, top first
    measured = {r["strategy"] for r in results.per_image}
    assert labels == [r["strategy"] for r in select_rows(results, 2) if r["strategy"] in measured]
    hits = per_image_values(results, "fg_hit_rate", labels[0])
    widths = [p.get_width() for p in hit_ax.patches]  # the "right" bars, then the "wrong" ones
    np.testing.assert_allclose(widths[0], 100 * np.nanmean(hits[right]))
    np.testing.assert_allclose(widths[len(labels)], 100 * np.nanmean(hits[~right]))
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [f"class right (n = {right.sum()})", f"class wrong (n = {(~right).sum()})"]
    assert_saved(fig, tmp_path, "classification")
    older = load_results(write_fake_results(tmp_path / "old", n_images=6, with_predicted=False))
    with pytest.raises(ValueError, match="predicted"):
        classification_figure(older)


def test_classifier_curve_plots_every_saved_point(results, tmp_path: Path) -> None:
    curve = np.asarray(results.settings["classifier"]["curve"])
    fig = classifier_curve_figure(results)
    loss_ax, acc_ax = fig.axes
    np.testing.assert_allclose(loss_ax.lines[0].get_xydata(), curve[:, :2])
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), 100 * curve[:, 3])
    assert "fake" in fig._suptitle.get_text() and "from scratch" in fig._suptitle.get_text()
    assert_saved(fig, tmp_path, "classifier_curve")
    no_curve = dataclasses.replace(results, settings={**results.settings, "classifier": {}})
    with pytest.raises(ValueError, match="learning curve"):
        classifier_curve_figure(no_curve)


def test_worst_failures_shows_the_lowest_iou_images(results, tmp_path: Path) -> None:
    fig = worst_failures_figure(results, n=3)
    best = results.best_automatic()["strategy"]
    assert best in fig._suptitle.get_text()
    shown = [ax.get_ylabel() for ax in fig.axes[:: len(EXAMPLE_COLUMNS)]]
    expected = worst_indices(results.ious(best), 3)
    assert shown == [f"#{i} {CLASSES[int(results.predictions.classes[i])]}" for i in expected]
    assert_saved(fig, tmp_path, "worst_failures")


def test_supervised_vs_best(results, tmp_path: Path) -> None:
    fig = supervised_vs_best_figure(results)
    titles = [ax.get_title() for ax in fig.axes[:4]]
    assert titles[0] == "Image" and titles[1] == "Ground truth"
    assert results.best_automatic()["strategy"] in titles[2]
    assert "supervised_fpn" in titles[3]
    assert_saved(fig, tmp_path, "supervised_vs_best")


def test_supervised_vs_best_needs_supervised_rows(tmp_path: Path) -> None:
    no_sup = tuple(s for s in FAKE_STRATEGIES if s.kind != "supervised")
    res = load_results(write_fake_results(tmp_path, n_images=5, strategies=no_sup))
    with pytest.raises(ValueError, match="no supervised rows"):
        supervised_vs_best_figure(res)


def test_dataset_example_matches_the_course_picture_size(results, tmp_path: Path) -> None:
    fig = dataset_example_figure(results, 3)
    assert [ax.get_title() for ax in fig.axes] == ["Image", "Mask"]
    assert assert_saved(fig, tmp_path, "dataset_example") == (615, 265)
    with pytest.raises(ValueError, match="outside"):
        dataset_example_figure(results, N_IMAGES)


def test_feature_maps_of_a_resnet18(results, tmp_path: Path) -> None:
    from classifier import build_classifier

    torch.manual_seed(0)
    model = build_classifier()
    image = results.predictions.images[3]
    fig = feature_maps_figure(model, image, label=2, n_maps=4, description="test #3")
    assert len(fig.axes) == 3 * 5
    assert [ax.get_ylabel() for ax in fig.axes[::5]] == [
        "conv1\n64×24×32",
        "layer1\n64×12×16",
        "layer2\n128×6×8",
    ]
    assert "Grad-CAM of triangle" in fig._suptitle.get_text().replace("\n", " ")
    assert_saved(fig, tmp_path, "feature_maps")


# ------------------------------------------------------------------------------ the script
def test_make_figures_writes_png_and_pdf(results_dir: Path, tmp_path: Path) -> None:
    options = FigureOptions(
        only=("iou_distribution", "supervised_vs_best", "dataset_example", "feature_maps")
    )
    written = make_figures(results_dir, tmp_path, options)
    # no dataset behind the fake results, so the feature maps are skipped
    assert sorted(written) == ["dataset_example", "iou_distribution", "supervised_vs_best"]
    for png, pdf in written.values():
        assert png.suffix == ".png" and png.is_file() and pdf.suffix == ".pdf" and pdf.is_file()


def test_script_fails_clearly_without_results(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "make_figures.py"),
            "--results",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "figs"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode != 0
    assert "metrics.json" in proc.stderr and "compare_strategies.py" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "figs").exists()


def test_file_stem_makes_variant_names_file_safe() -> None:
    from plots.make import file_stem

    assert file_stem("cam_argmax") == "cam_argmax"
    assert file_stem("flood_heat [select=cam, refine]") == "flood_heat-select_cam-refine"
    assert file_stem("[]") == "unnamed"
