"""The published strategies on hand-made heat maps, where each point is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from prompting import get_strategy

H, W = 48, 64


def _run(name: str, cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    coords, labels = get_strategy(name)(cam[None], np.zeros((1, H, W, 3), np.uint8))
    return coords[0], labels[0]


def _star_cam() -> np.ndarray:
    """Heat 1.0 on a ring-like 'C' (non-convex): its centroid (32, 24) lies in the hole."""
    cam = np.zeros((H, W), np.float32)
    cam[14:35, 22:43] = 1.0
    cam[19:30, 27:43] = 0.0  # the opening of the C, to the right
    return cam


def test_cam_centroid_weights_the_hot_pixels() -> None:
    cam = np.zeros((H, W), np.float32)
    cam[10, 20] = 1.0  # weight 1.0
    cam[10, 30] = 0.7  # weight 0.7, also above 0.6
    cam[40, 60] = 0.5  # below the threshold: ignored
    coords, labels = _run("published_cam_centroid", cam)
    expected_x = round((20 * 1.0 + 30 * 0.7) / 1.7)  # 24.1 -> 24
    np.testing.assert_array_equal(coords, [[expected_x, 10]])
    np.testing.assert_array_equal(labels, [1])


def test_cam_centroid_can_fall_outside_a_non_convex_shape_and_snap_fixes_it() -> None:
    cam = _star_cam()
    ((x, y),), _ = _run("published_cam_centroid", cam)
    assert cam[y, x] == 0.0  # outside the hot region: the documented weakness
    ((sx, sy),), _ = _run("published_cam_centroid_snap", cam)
    assert cam[sy, sx] == 1.0
    assert (sx - x) ** 2 + (sy - y) ** 2 <= 6**2  # the nearest hot pixel, not any


def test_top10_centroid_and_the_coldest_corner() -> None:
    cam = np.full((H, W), 0.2, np.float32)
    cam[20:24, 40:44] = 1.0  # 16 hottest pixels, under 10 % of 3072
    cam[0:4, 0:4] = 0.9
    cam[H - 1, W - 1] = 0.0  # the coldest corner
    coords, labels = _run("published_top10_corner", cam)
    hottest = cam >= np.quantile(cam, 0.9)
    ys, xs = np.nonzero(hottest)
    np.testing.assert_array_equal(coords[0], [round(xs.mean()), round(ys.mean())])
    np.testing.assert_array_equal(coords[1], [W - 1, H - 1])
    np.testing.assert_array_equal(labels, [1, 0])


def test_argmax_and_argmin_and_a_flat_map() -> None:
    cam = np.full((H, W), 0.5, np.float32)
    cam[5, 50] = 1.0
    cam[40, 3] = 0.0
    coords, labels = _run("published_argmax_argmin", cam)
    np.testing.assert_array_equal(coords, [[50, 5], [3, 40]])
    np.testing.assert_array_equal(labels, [1, 0])
    flat_coords, _ = _run("published_argmax_argmin", np.zeros((H, W), np.float32))
    np.testing.assert_array_equal(flat_coords, [[0, 0], [W - 1, H - 1]])  # never one pixel


@pytest.mark.parametrize("n_peaks", [1, 2, 4])
def test_s2c_argmax_then_peaks_above_half(n_peaks: int) -> None:
    cam = np.zeros((H, W), np.float32)
    peaks = [((10, 10), 1.0), ((30, 40), 0.8), ((40, 5), 0.6), ((20, 60), 0.55)][:n_peaks]
    for (y, x), v in peaks:
        cam[y, x] = v
    cam[5, 30] = 0.4  # a peak below 0.5: never used
    coords, labels = _run("published_s2c_peaks", cam)
    expected = [(x, y) for (y, x), _ in peaks][:3]
    expected += [expected[0]] * (3 - len(expected))  # the argmax repeats
    np.testing.assert_array_equal(coords, expected)
    np.testing.assert_array_equal(labels, [1, 1, 1])
