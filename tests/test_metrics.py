"""Tests for metrics/: point hit rates, distances and IoU on hand-made masks."""

from __future__ import annotations

import numpy as np
import pytest

from metrics import (
    hit_rate,
    iou_per_image,
    iou_summary,
    label_distances,
    mask_centers,
    point_distances,
    points_inside,
    summarize_points,
    summarize_run,
)


def _masks() -> np.ndarray:
    """Four 6 x 8 masks: empty, full, a single pixel at (x=7, y=0), a block on the left border."""
    m = np.zeros((4, 6, 8), bool)
    m[1] = True
    m[2, 0, 7] = True
    m[3, 1:4, 0:2] = True
    return m


def test_points_inside_uses_x_y_order() -> None:
    m = _masks()
    coords = np.array([[[7, 0]], [[7, 0]], [[7, 0]], [[0, 7 - 7]]])
    inside = points_inside(coords, m)
    assert inside[:, 0].tolist() == [False, True, True, False]
    # (X, Y) = (0, 2) is inside the border block, (2, 0) is not
    assert points_inside(np.array([[[0, 2], [2, 0]]]), m[3:4]).tolist() == [[True, False]]


def test_hit_rate_and_background_correctness_are_separate() -> None:
    m = _masks()
    coords = np.array([[[3, 3], [0, 0]], [[3, 3], [0, 0]], [[7, 0], [6, 0]], [[1, 2], [1, 0]]])
    labels = np.array([[1, 0], [1, 0], [1, 0], [1, 0]])
    # fg: empty miss, full hit, pixel hit, block hit -> 3/4
    assert hit_rate(coords, labels, m, 1) == pytest.approx(0.75)
    # bg: empty outside, full inside, (6, 0) outside, (1, 0) outside -> 1/4 inside
    assert hit_rate(coords, labels, m, 0) == pytest.approx(0.25)


def test_rates_are_none_without_points_of_that_label() -> None:
    m = _masks()[:2]
    coords = np.zeros((2, 1, 2), np.int64)
    assert hit_rate(coords, np.ones((2, 1), np.int64), m, 0) is None
    assert hit_rate(coords, np.zeros((2, 1), np.int64), m, 1) is None


def test_mask_centers() -> None:
    c = mask_centers(_masks())
    assert np.isnan(c[0]).all()
    np.testing.assert_allclose(c[1], [3.5, 2.5])  # mean of x = 0..7 and y = 0..5
    np.testing.assert_allclose(c[2], [7.0, 0.0])  # pixel centres at integer coordinates
    np.testing.assert_allclose(c[3], [0.5, 2.0])


def test_distances() -> None:
    m = _masks()
    coords = np.array([[[0, 0]], [[3, 2]], [[4, 4]], [[0, 2]]])
    d = point_distances(coords, m)[:, 0]
    assert np.isnan(d[0])
    np.testing.assert_allclose(d[1:], [np.hypot(0.5, 0.5), 5.0, 0.5])
    labels = np.ones((4, 1), np.int64)
    fd = label_distances(coords, labels, m, 1)
    np.testing.assert_allclose(fd, d[1:])  # the empty mask is left out
    # background points are not counted as foreground distances
    labels[2] = 0
    assert label_distances(coords, labels, m, 1).size == 2


def test_point_checks() -> None:
    m = _masks()
    with pytest.raises(ValueError, match="outside"):
        hit_rate(np.array([[[8, 0]]] * 4), np.ones((4, 1)), m, 1)
    with pytest.raises(ValueError, match="labels must be"):
        hit_rate(np.zeros((4, 1, 2), int), np.ones((4, 2)), m, 1)
    with pytest.raises(ValueError, match="coords must be"):
        hit_rate(np.zeros((3, 1, 2), int), np.ones((3, 1)), m, 1)


def test_iou_per_image_conventions() -> None:
    m = _masks()
    # identical masks (including both empty) -> 1.0
    np.testing.assert_allclose(iou_per_image(m, m), [1.0, 1.0, 1.0, 1.0])
    # one side empty -> 0.0
    empty = np.zeros_like(m)
    np.testing.assert_allclose(iou_per_image(empty, m), [1.0, 0.0, 0.0, 0.0])
    # pixel vs full: 1 / 48; border block vs its left column: 3 / 6
    pred = np.zeros_like(m)
    pred[2] = True
    pred[3, 1:4, 0] = True
    np.testing.assert_allclose(iou_per_image(pred[2:], m[2:]), [1 / 48, 0.5])
    with pytest.raises(ValueError, match="both be"):
        iou_per_image(m[0], m[0])


def test_iou_summary() -> None:
    ious = np.array([1.0, 0.0, 0.5, 0.25])
    s = iou_summary(ious, class_labels=np.array([0, 0, 2, 2]), class_names=("a", "b", "c"))
    assert s["miou"] == pytest.approx(0.4375)
    assert s["iou_median"] == pytest.approx(0.375)
    assert s["iou_std"] == pytest.approx(np.std(ious))
    assert s["iou_ge_50"] == pytest.approx(0.5)
    assert s["per_class_miou"] == {"a": 0.5, "c": 0.375}
    assert iou_summary(np.zeros(0))["miou"] is None
    assert iou_summary(ious)["per_class_miou"] == {}


def test_summaries() -> None:
    m = _masks()
    coords = np.array([[[3, 3]], [[3, 2]], [[7, 0]], [[0, 2]]])
    labels = np.ones((4, 1), np.int64)
    p = summarize_points(coords, labels, m)
    assert p["fg_hit_rate"] == pytest.approx(0.75)
    assert p["bg_correct_rate"] is None
    assert p["fg_distance_px"] == pytest.approx((np.hypot(0.5, 0.5) + 0 + 0.5) / 3)
    assert p["fg_distance_median_px"] == pytest.approx(0.5)
    r = summarize_run(coords, labels, m, pred_masks=m, class_labels=np.arange(4))
    for key in ("fg_hit_rate", "bg_correct_rate", "fg_distance_px", "fg_distance_median_px"):
        assert r[key] == p[key]
    assert r["miou"] == 1.0 and r["iou_ge_50"] == 1.0 and len(r["per_class_miou"]) == 4
    assert summarize_run(coords, labels, m)["miou"] is None


def test_background_points_get_their_own_hit_rate_and_distance() -> None:
    """Two images with a 2 x 2 mask at rows 1-2, columns 1-2 (centre of mass (1.5, 1.5)); one
    foreground and one background point each. The first background point lands on the mask (a
    hit, which is bad for a background point), the second lies 3-4 pixels away."""
    m = np.zeros((2, 5, 6), bool)
    m[:, 1:3, 1:3] = True
    coords = np.array([[[1, 1], [2, 2]], [[2, 1], [5, 4]]])  # (X, Y)
    labels = np.array([[1, 0], [1, 0]])
    p = summarize_points(coords, labels, m)
    assert p["fg_hit_rate"] == 1.0
    assert p["bg_hit_rate"] == pytest.approx(0.5)
    assert p["bg_correct_rate"] == pytest.approx(0.5)
    d_bg = [np.hypot(0.5, 0.5), np.hypot(3.5, 2.5)]
    assert p["bg_distance_px"] == pytest.approx(np.mean(d_bg))
    assert p["bg_distance_median_px"] == pytest.approx(np.median(d_bg))
    assert p["fg_distance_px"] == pytest.approx(np.hypot(0.5, 0.5))
    assert p["n_fg_points"] == p["n_bg_points"] == 2
    none = summarize_points(coords[:, :1], labels[:, :1], m)
    assert none["bg_hit_rate"] is None and none["bg_distance_px"] is None
