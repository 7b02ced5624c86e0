"""The heat maps' offset: moving maps (`cam.base.shift_maps`), a CAM's ``offset``, and the
label-free estimate (`prompting.calibration`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cam import GradCAM, LayerCAM
from cam.base import minmax_normalize, shift_heatmaps, shift_maps
from prompting.calibration import estimate_heat_offset, hot_centroids, measured_heat_offset


def test_shift_maps_moves_content_back_by_the_offset() -> None:
    maps = torch.zeros(2, 5, 6)
    maps[0, 2, 3] = 1.0
    maps[1, 1, 1] = 1.0
    moved = shift_maps(maps, (1.0, 0.0))
    assert moved.shape == maps.shape
    assert moved[0, 2, 2] == 1.0 and moved[0].sum() == 1.0  # 1 px left
    assert moved[1, 1, 0] == 1.0
    half = shift_maps(maps, (0.5, -1.0))[0]  # half a pixel left, one down
    np.testing.assert_allclose(half[3, 2:4].numpy(), [0.5, 0.5], atol=1e-6)
    assert float(half.sum()) == pytest.approx(1.0)
    assert shift_maps(maps, (0.0, 0.0)) is maps
    ramp = torch.arange(6.0).expand(1, 5, 6)
    np.testing.assert_allclose(shift_maps(ramp, (2.0, 0.0))[0, 0].numpy(), [2, 3, 4, 5, 5, 5])
    with pytest.raises(ValueError, match=r"\(B, H, W\)"):
        shift_maps(torch.zeros(5, 6), (1.0, 0.0))
    with pytest.raises(ValueError, match="finite"):
        shift_maps(maps, (float("nan"), 0.0))


def test_shift_heatmaps_rescales_to_0_1() -> None:
    maps = np.zeros((1, 4, 4), np.float32)
    maps[0, :, 0] = 1.0  # the hot column leaves through the left edge...
    maps[0, :, 1] = 0.5
    moved = shift_heatmaps(maps, (1.0, 0.0))
    assert moved.dtype == np.float32 and moved.max() == 1.0 and moved.min() == 0.0
    np.testing.assert_allclose(moved[0, 0], [1.0, 0.0, 0.0, 0.0])  # ...and 0.5 is the new max
    np.testing.assert_array_equal(shift_heatmaps(maps, (0.0, 0.0)), maps)


def _tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=4, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 5),
    )


@pytest.mark.parametrize("method", [GradCAM, LayerCAM])
def test_cam_offset_equals_moving_its_maps(method) -> None:
    net = _tiny_net()
    x = torch.randn(3, 3, 16, 20, generator=torch.Generator().manual_seed(1))
    plain = method(net, [net[2]])(x)
    moved_cam = method(net, [net[2]], offset=(2.5, -1.0))
    np.testing.assert_allclose(moved_cam(x), shift_heatmaps(plain, (2.5, -1.0)), atol=1e-5)
    expected = minmax_normalize(shift_maps(torch.from_numpy(plain), (2.5, -1.0))).numpy()
    np.testing.assert_allclose(moved_cam(x), expected, atol=1e-5)
    assert "offset=(2.50, -1.00)" in repr(moved_cam)
    assert "offset" not in repr(method(net, [net[2]]))
    with pytest.raises(ValueError, match="offset"):
        method(net, [net[2]], offset=(1.0,))
    with pytest.raises(ValueError, match="offset"):
        method(net, [net[2]], offset=(1.0, float("inf")))


def test_hot_centroids() -> None:
    cams = np.zeros((3, 6, 8), np.float32)
    cams[0, 2, 5] = 1.0
    cams[1, 1:3, 1:3] = 1.0
    cams[1, 5, 7] = 0.4  # below half the maximum: not hot
    got = hot_centroids(cams)
    np.testing.assert_allclose(got[:2], [[5.0, 2.0], [1.5, 1.5]])
    assert np.isnan(got[2]).all()  # an all-zero map
    with pytest.raises(ValueError, match=r"\(B, H, W\)"):
        hot_centroids(cams[0])


def _squares_with_offset_maps(
    n: int, offset: tuple[float, float], seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Flat squares on a smooth random background, each map a blob centred ``offset`` px right
    and down of its square's centre."""
    rng = np.random.default_rng(seed)
    h, w = 48, 64
    ys, xs = np.mgrid[:h, :w]
    images = np.empty((n, h, w, 3), np.uint8)
    cams = np.empty((n, h, w), np.float32)
    for i in range(n):
        base = rng.integers(60, 190, 3)
        image = base + 20 * np.sin(xs / 9.0 + i)[..., None] + 15 * np.cos(ys / 7.0)[..., None]
        side = int(rng.integers(9, 15))
        x0, y0 = int(rng.integers(8, w - side - 8)), int(rng.integers(8, h - side - 8))
        image[y0 : y0 + side, x0 : x0 + side] = rng.integers(0, 256, 3)
        images[i] = np.clip(image, 0, 255).astype(np.uint8)
        cx, cy = x0 + (side - 1) / 2 + offset[0], y0 + (side - 1) / 2 + offset[1]
        cams[i] = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * 4.0**2))
    return images, cams


def test_estimate_heat_offset_recovers_a_known_offset() -> None:
    from prompting.image_aware import segment_heat

    images, cams = _squares_with_offset_maps(30, (3.0, 1.0))
    dx, dy = estimate_heat_offset(cams, images)
    assert abs(dx - 3.0) <= 0.6 and abs(dy - 1.0) <= 0.6, (dx, dy)
    images, cams = _squares_with_offset_maps(30, (0.0, 0.0), seed=1)
    dx, dy = estimate_heat_offset(cams, images, point_fn=segment_heat)
    assert abs(dx) <= 0.6 and abs(dy) <= 0.6, (dx, dy)
    # all-zero maps are skipped, and too few usable images is an error
    cams[:15] = 0.0
    assert estimate_heat_offset(cams, images, min_images=10) == estimate_heat_offset(
        cams[15:], images[15:], min_images=10
    )
    with pytest.raises(ValueError, match="at least 20 images"):
        estimate_heat_offset(cams, images)


def test_measured_heat_offset_says_how() -> None:
    images, cams = _squares_with_offset_maps(25, (-2.0, 0.0))
    found = measured_heat_offset(cams, images, "25 test images")
    assert abs(found["dx"] + 2.0) <= 0.6 and abs(found["dy"]) <= 0.6, found
    assert "25 test images" in found["how"] and "no masks" in found["how"]
    assert found["agreement"] > 0.8
    cams[:10] = 0.0  # 15 maps with heat: too few to measure, so not moved
    kept = measured_heat_offset(cams, images, "25 test images")
    assert (kept["dx"], kept["dy"]) == (0.0, 0.0) and "only 15 maps" in kept["how"]


def test_maps_that_do_not_follow_the_shapes_are_not_moved() -> None:
    """A classifier at chance level: each map's blob lies anywhere, so the per-image offsets
    scatter, few agree with their median, and the maps are left where they are."""
    from prompting.calibration import AGREE_RADIUS, agreement, offset_samples

    images, cams = _squares_with_offset_maps(30, (3.0, 1.0))
    samples = offset_samples(cams, images)
    assert samples.shape == (30, 2)
    assert agreement(samples, (3.0, 1.0)) > 0.8
    assert agreement(samples, (3.0 + 3 * AGREE_RADIUS, 1.0)) == 0.0
    rng = np.random.default_rng(5)
    ys, xs = np.mgrid[:48, :64]
    for i in range(len(cams)):  # blobs anywhere, whatever the square
        cx, cy = rng.uniform(6, 58), rng.uniform(6, 42)
        cams[i] = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * 4.0**2))
    found = measured_heat_offset(cams, images, "30 test images")
    assert (found["dx"], found["dy"]) == (0.0, 0.0) and found["agreement"] < 0.5
    assert "do not follow the shapes" in found["how"]
    assert agreement(np.zeros((0, 2)), (0.0, 0.0)) == 0.0


def test_estimate_heat_offset_rejects_mismatched_inputs() -> None:
    images, cams = _squares_with_offset_maps(3, (0.0, 0.0))
    with pytest.raises(ValueError, match="must match"):
        estimate_heat_offset(cams[:2], images)
    with pytest.raises(ValueError, match="must match"):
        estimate_heat_offset(cams, images[..., 0])


def test_compare_parses_heat_offset() -> None:
    from common.errors import UserError
    from evaluation.compare import CompareConfig, parse_heat_offset

    assert parse_heat_offset("auto") is None
    assert parse_heat_offset("none") == (0.0, 0.0)
    assert parse_heat_offset("2.8,-0.5") == (2.8, -0.5)
    for bad in ("2.8", "a,b", "1,2,3", "nan,0"):
        with pytest.raises(UserError, match="--heat-offset"):
            parse_heat_offset(bad)
    with pytest.raises(UserError, match="--heat-offset"):
        CompareConfig(heat_offset="left")
