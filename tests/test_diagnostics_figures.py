"""The contrast / opacity columns of per_image.csv and the figures drawn from them
(plots.charts), on tiny fake results (see fake_results.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from fake_results import write_fake_results
from test_figures import assert_saved

from evaluation.results import load_results
from metrics import shape_contrasts
from plots.charts import (
    bin_labels,
    binned_means,
    diagnostic_figure,
    has_values,
    per_image_values,
    quantile_bins,
)
from plots.make import FigureOptions, make_figures
from shapes import CLASSES

N_IMAGES = 15


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_results(tmp_path_factory.mktemp("results"), n_images=N_IMAGES, seed=2)


@pytest.fixture(scope="module")
def results(results_dir: Path):
    return load_results(results_dir)


def test_per_image_rows_carry_contrast_and_opacity(results_dir: Path, results) -> None:
    with (results_dir / "per_image.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert {"contrast", "opacity"} <= set(rows[0])
    pred = results.predictions
    expected = shape_contrasts(pred.images, pred.gt_masks)
    np.testing.assert_allclose(per_image_values(results, "contrast"), expected, atol=1e-3)
    opacity = per_image_values(results, "opacity")
    assert ((opacity >= 0.45) & (opacity <= 1.0)).all()
    np.testing.assert_allclose(opacity, pred.opacity, atol=1e-4)  # saved in predictions.npz too
    for strategy in {r["strategy"] for r in rows}:  # the same for every strategy
        np.testing.assert_allclose(per_image_values(results, "contrast", strategy), expected, 1e-3)


def test_quantile_bins() -> None:
    values = np.array([5.0, 1.0, np.nan, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    edges, index = quantile_bins(values, 5)
    assert len(edges) == 6 and edges[0] == 1.0 and edges[-1] == 10.0
    assert index[2] == -1
    assert np.bincount(index[index >= 0]).tolist() == [2, 2, 2, 2, 2]
    assert index[1] == 0 and index[-1] == 4
    # ties merge bins: a quarter of opaque shapes
    edges, index = quantile_bins(np.array([0.5, 0.6, 0.7, 1.0, 1.0, 1.0, 1.0, 1.0]), 5)
    assert edges[-1] == 1.0 and len(edges) < 6 and index.max() == len(edges) - 2
    edges, index = quantile_bins(np.ones(4), 5)
    assert edges.tolist() == [1.0, 1.0] and index.tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="no finite"):
        quantile_bins(np.array([np.nan]))
    assert bin_labels(np.array([0.0, 12.4, 40.0]), "{:.0f}") == ["0-12", "12-40"]


def test_binned_means_skip_nan_and_empty_bins() -> None:
    values = np.array([1.0, 0.0, np.nan, 1.0])
    out = binned_means(values, np.array([0, 0, 1, 2]), 4)
    assert out[0] == 0.5 and np.isnan(out[1]) and out[2] == 1.0 and np.isnan(out[3])


@pytest.mark.parametrize("column", ["contrast", "opacity"])
def test_diagnostic_figure(results, tmp_path: Path, column: str) -> None:
    fig = diagnostic_figure(results, column, top=2)
    assert len(fig.axes) == 2 * (1 + len(CLASSES))
    assert column in fig._suptitle.get_text()
    hit_axis = fig.axes[0]
    lines = {line.get_label(): line for line in hit_axis.get_lines()}
    assert "cam_argmax" in lines and "oracle_inner_point" in lines
    # the all-classes hit rate per bin is the per-image mean in that bin
    edges, index = quantile_bins(per_image_values(results, column), 5)
    hits = per_image_values(results, "fg_hit_rate", "cam_argmax")
    expected = 100 * binned_means(hits, index, len(edges) - 1)
    np.testing.assert_allclose(lines["cam_argmax"].get_ydata(), expected)
    # each column's tick labels count its own images per bin: all of them, then one class's
    fig.canvas.draw()
    classes = np.full(results.n_images, -1)
    for r in results.per_image:
        classes[int(r["index"])] = CLASSES.index(r["class"])
    for col in range(1 + len(CLASSES)):
        labels = [t.get_text() for t in fig.axes[1 + len(CLASSES) + col].get_xticklabels()]
        counts = [int(text.rsplit("(", 1)[1].rstrip(")")) for text in labels]
        chosen = index >= 0 if col == 0 else (index >= 0) & (classes == col - 1)
        assert counts == np.bincount(index[chosen], minlength=len(edges) - 1).tolist()
    assert_saved(fig, tmp_path, f"{column}_diagnostics")
    with pytest.raises(ValueError, match="unknown column"):
        diagnostic_figure(results, "size")


def test_make_figures_skips_opacity_when_the_dataset_has_none(tmp_path: Path) -> None:
    folder = write_fake_results(tmp_path / "res", n_images=10, with_opacity=False)
    results = load_results(folder)
    assert has_values(results, "contrast") and not has_values(results, "opacity")
    written = make_figures(folder, tmp_path / "figs", FigureOptions(only=("contrast", "opacity")))
    assert sorted(written) == ["contrast_diagnostics"]
    with pytest.raises(ValueError, match="no opacity"):
        diagnostic_figure(results, "opacity")
