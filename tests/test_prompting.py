"""Tests for the point-prompt strategies and their registry (prompting/)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prompting import (
    FAMILIES,
    PointsError,
    StrategyError,
    get_strategy,
    list_strategies,
    make_points,
    register_strategy,
    registry,
    validate_points,
)
from prompting.baselines import toward_border
from prompting.points import argmax_xy, distance_from, interior_point

ALL = list_strategies()
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strategies registered by the test are forgotten afterwards."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def _heat(kind: str, h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "zeros":
        return np.zeros((h, w), np.float32)
    if kind == "constant":
        return np.full((h, w), 0.7, np.float32)
    if kind.startswith("corner"):
        cam = np.zeros((h, w), np.float32)
        y, x = {"corner_tl": (0, 0), "corner_br": (h - 1, w - 1)}[kind]
        cam[y, x] = 1.0
        return cam
    return rng.random((h, w)).astype(np.float32)


def _image(kind: str, h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    if kind == "flat":
        return np.full((h, w, 3), 90, np.uint8)
    if kind == "square":
        img = np.full((h, w, 3), 40, np.uint8)
        img[h // 4 : h // 2 + 1, w // 4 : w // 2 + 1] = (200, 30, 60)
        return img
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


@st.composite
def scenes(draw):
    h = draw(st.integers(8, 40))
    w = draw(st.integers(8, 40))
    seed = draw(st.integers(0, 2**16))
    heat = draw(st.sampled_from(["zeros", "constant", "corner_tl", "corner_br", "random"]))
    image = draw(st.sampled_from(["flat", "square", "noise"]))
    mask_kind = draw(st.sampled_from(["empty", "full", "blob"]))
    cams = np.stack([_heat(heat, h, w, seed), _heat("random", h, w, seed + 7)])
    images = np.stack([_image(image, h, w, seed), _image("noise", h, w, seed + 3)])
    masks = np.zeros((2, h, w), bool)
    if mask_kind == "full":
        masks[:] = True
    elif mask_kind == "blob":
        masks[:, h // 3 : h // 3 + 3, w // 3 : w // 3 + 3] = True
    return cams, images, masks


@pytest.mark.parametrize("name", ALL)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scene=scenes())
def test_strategy_contract(name: str, scene) -> None:
    cams, images, masks = scene
    strategy = get_strategy(name)
    coords, labels = strategy(cams, images, masks)
    b, h, w = cams.shape
    assert coords.dtype == np.int64 and labels.dtype == np.int64
    assert coords.ndim == 3 and coords.shape[0] == b and coords.shape[2] == 2
    assert labels.shape == coords.shape[:2]
    assert (coords[..., 0] >= 0).all() and (coords[..., 0] < w).all()
    assert (coords[..., 1] >= 0).all() and (coords[..., 1] < h).all()
    assert set(np.unique(labels)) <= {0, 1}
    assert (labels == 1).any(axis=1).all()
    assert (labels == 0).any(axis=1).all() == strategy.emits_background
    if not strategy.emits_background:
        assert (labels == 1).all()
    # N is fixed per strategy: the same as on a reference 8 x 8 scene
    ref_coords, ref_labels = strategy(
        np.zeros((1, 8, 8), np.float32), np.zeros((1, 8, 8, 3), np.uint8), np.ones((1, 8, 8), bool)
    )
    assert ref_coords.shape[1] == coords.shape[1]
    np.testing.assert_array_equal(np.sort(ref_labels[0]), np.sort(labels[0]))
    # deterministic
    coords2, labels2 = strategy(cams, images, masks)
    np.testing.assert_array_equal(coords, coords2)
    np.testing.assert_array_equal(labels, labels2)


@pytest.mark.parametrize("name", ALL)
def test_every_strategy_has_metadata(name: str) -> None:
    s = get_strategy(name)
    assert s.name == name
    assert isinstance(s.emits_background, bool) and isinstance(s.oracle, bool)
    assert s.family in FAMILIES
    n_sentences = s.description.count(". ") + 1
    assert len(s.description) > 10 and 1 <= n_sentences <= 3


def test_builtins_registered() -> None:
    expected = {
        "center",
        "cam_argmax",
        "cc_centroid",
        "peak_local_max",
        "gmm",
        "segment_heat",
        "segment_heat_bg",
        "multiscale_heat",
        "multiscale_heat_bg",
        "flood_heat",
        "flood_heat_bg",
        "oracle_interior",
        "oracle_interior_bg",
    }
    assert expected <= set(ALL)
    assert {n for n in ALL if get_strategy(n).oracle} == {"oracle_interior", "oracle_interior_bg"}


def test_list_strategies_pattern_and_oracles() -> None:
    assert list_strategies("oracle_*") == ["oracle_interior", "oracle_interior_bg"]
    assert list_strategies("*heat_bg") == ["flood_heat_bg", "multiscale_heat_bg", "segment_heat_bg"]
    assert list_strategies() == sorted(list_strategies())
    assert list_strategies("no_such_*") == []


def test_families_partition_the_registry() -> None:
    by_family = {f: list_strategies(family=f) for f in FAMILIES}
    assert sorted(n for names in by_family.values() for n in names) == ALL
    assert {"cam_argmax", "cc_centroid_border", "center", "gmm"} <= set(by_family["heat"])
    assert {"segment_heat", "multiscale_heat", "flood_heat_bg"} <= set(by_family["image"])
    assert by_family["published"] == list_strategies("published_*")
    assert by_family["oracle"] == [n for n in ALL if get_strategy(n).oracle]
    assert list_strategies("cc_*", family="heat") == ["cc_centroid", "cc_centroid_border"]
    with pytest.raises(StrategyError, match=r"unknown strategy family 'cam'.*heat, image"):
        list_strategies(family="cam")


@pytest.mark.parametrize(
    "name", list_strategies(family="heat") + list_strategies(family="published")
)
def test_heat_only_strategies_ignore_the_image(name: str) -> None:
    scenes = [_scene(s) for s in range(3)]
    cams, images, _ = (np.stack(a) for a in zip(*scenes, strict=True))
    other = np.random.default_rng(7).integers(0, 256, images.shape).astype(np.uint8)
    strategy = get_strategy(name)
    for got, want in zip(strategy(cams, other), strategy(cams, images), strict=True):
        np.testing.assert_array_equal(got, want)


def test_an_oracle_cannot_be_published(scratch_registry) -> None:
    with pytest.raises(StrategyError, match=r"'peeker'.*oracle cannot be a published"):

        @register_strategy(emits_background=False, oracle=True, published=True)
        def peeker(cam, image, mask=None):
            """Reads the mask."""
            return make_points([(0, 0)])


def test_unknown_name_lists_known_and_suggests_closest() -> None:
    with pytest.raises(StrategyError) as err:
        get_strategy("cam_argmx")
    msg = str(err.value)
    assert "Did you mean 'cam_argmax'" in msg
    assert "center" in msg and "segment_heat" in msg


def test_kind() -> None:
    kinds = {n: get_strategy(n).kind for n in ("center", "gmm", "oracle_interior_bg")}
    assert kinds == {"center": "fg", "gmm": "fg+bg", "oracle_interior_bg": "oracle"}


def test_duplicate_name_is_an_error() -> None:
    with pytest.raises(StrategyError, match="already registered"):

        @register_strategy(emits_background=False)
        def center(cam, image, mask=None):
            """Another centre."""
            return make_points([(0, 0)])


def test_name_and_description_come_from_the_function(scratch_registry) -> None:
    @register_strategy(emits_background=True, oracle=True)
    def _test_corner(cam, image, mask=None):
        """Top-left corner as foreground,
        bottom-right as background.

        Details that stay out of the tables.
        """
        return make_points([(0, 0)], [(cam.shape[1] - 1, cam.shape[0] - 1)])

    s = get_strategy("_test_corner")
    assert (s.name, s.kind, s.fn) == ("_test_corner", "oracle", _test_corner)
    assert s.description == "Top-left corner as foreground, bottom-right as background."
    cams, images, masks = np.zeros((2, 8, 9), np.float32), np.zeros((2, 8, 9, 3), np.uint8), None
    with pytest.raises(StrategyError, match="oracle"):
        s(cams, images, masks)
    coords, labels = s(cams, images, np.ones((2, 8, 9), bool))
    np.testing.assert_array_equal(coords[1], [[0, 0], [8, 7]])
    np.testing.assert_array_equal(labels, [[1, 0], [1, 0]])


def test_a_strategy_needs_a_docstring(scratch_registry) -> None:
    with pytest.raises(StrategyError, match="needs a docstring"):

        @register_strategy(emits_background=False)
        def _test_bare(cam, image, mask=None):
            return make_points([(0, 0)])

    assert "_test_bare" not in list_strategies()


def test_broken_strategies_are_caught(scratch_registry) -> None:
    @register_strategy(emits_background=False)
    def _test_oob(cam, image, mask=None):
        """Out of bounds."""
        return make_points([(cam.shape[1], 0)])

    @register_strategy(emits_background=False)
    def _test_liar(cam, image, mask=None):
        """Emits bg anyway."""
        return make_points([(0, 0)], [(1, 1)])

    @register_strategy(emits_background=True)
    def _test_nofg(cam, image, mask=None):
        """Only background."""
        return make_points([], [(1, 1)])

    @register_strategy(emits_background=True)
    def _test_nobg(cam, image, mask=None):
        """Promises background, emits none."""
        return make_points([(0, 0)])

    @register_strategy(emits_background=False)
    def _test_varying(cam, image, mask=None):
        """Varying N."""
        return make_points([(0, 0)] * (1 + int(cam.max() > 0.5)))

    cams = np.zeros((2, 5, 6), np.float32)
    images = np.zeros((2, 5, 6, 3), np.uint8)
    with pytest.raises(PointsError, match="outside"):
        get_strategy("_test_oob")(cams, images)
    with pytest.raises(StrategyError, match="emits_background=False"):
        get_strategy("_test_liar")(cams, images)
    with pytest.raises(StrategyError, match="no foreground"):
        get_strategy("_test_nofg")(cams, images)
    with pytest.raises(StrategyError, match=r"emits_background=True but returned 0"):
        get_strategy("_test_nobg")(cams, images)
    cams[1] = 1.0
    with pytest.raises(PointsError, match="fixed per strategy"):
        get_strategy("_test_varying")(cams, images)


@pytest.mark.parametrize("name", ["oracle_interior", "oracle_interior_bg"])
def test_oracles_need_masks(name: str) -> None:
    with pytest.raises(StrategyError, match="oracle"):
        get_strategy(name)(np.zeros((1, 8, 8), np.float32), np.zeros((1, 8, 8, 3), np.uint8))


def test_bad_inputs_are_named() -> None:
    s = get_strategy("center")
    with pytest.raises(StrategyError, match="cams must be"):
        s(np.zeros((8, 8), np.float32), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(StrategyError, match="images must be uint8"):
        s(np.zeros((1, 8, 8), np.float32), np.zeros((1, 8, 8, 3), np.float32))
    with pytest.raises(StrategyError, match="NaN"):
        s(np.full((1, 8, 8), np.nan, np.float32), np.zeros((1, 8, 8, 3), np.uint8))


# ---------------------------------------------------------------- individual behaviour


def _one(cam: np.ndarray, image: np.ndarray | None = None, mask: np.ndarray | None = None):
    h, w = cam.shape
    image = np.zeros((h, w, 3), np.uint8) if image is None else image
    masks = None if mask is None else mask[None]
    return (cam[None].astype(np.float32), image[None], masks)


def test_center_and_argmax() -> None:
    cam = np.zeros((9, 12), np.float32)
    cam[2, 7] = 1.0
    coords, _ = get_strategy("center")(*_one(cam))
    np.testing.assert_array_equal(coords[0], [[6, 4]])
    coords, _ = get_strategy("cam_argmax")(*_one(cam))
    np.testing.assert_array_equal(coords[0], [[7, 2]])


def test_cc_centroid_picks_heaviest_component() -> None:
    cam = np.zeros((20, 30), np.float32)
    cam[2:4, 2:4] = 1.0  # hottest pixel, little mass
    cam[10:17, 15:25] = 0.8  # heavier component
    coords, _ = get_strategy("cc_centroid")(*_one(cam))
    x, y = coords[0, 0]
    assert 15 <= x < 25 and 10 <= y < 17


def test_cc_centroid_snaps_into_a_ring() -> None:
    yy, xx = np.mgrid[0:31, 0:31]
    r = np.hypot(xx - 15, yy - 15)
    cam = ((r > 8) & (r < 12)).astype(np.float32)  # centroid in the hole
    coords, _ = get_strategy("cc_centroid")(*_one(cam))
    x, y = coords[0, 0]
    assert cam[y, x] == 1.0


def test_toward_border_is_a_tent() -> None:
    # distance d to the nearer end of a 64-px axis: moves push * d up to reach, then less
    assert toward_border(8.0, 64, 0.25, 8.0) == 6.0  # d = 8: the largest move, 2 px
    assert toward_border(4.0, 64, 0.25, 8.0) == 3.0  # d = 4: 1 px
    assert toward_border(12.0, 64, 0.25, 8.0) == 11.0  # d = 12: push * (16 - 12)
    assert toward_border(63.0 - 12.0, 64, 0.25, 8.0) == 52.0  # the far end: outward is +
    assert toward_border(20.0, 64, 0.25, 8.0) == 20.0  # 16 px or more inside: no move
    assert toward_border(0.0, 64, 0.25, 8.0) == 0.0  # never crosses the end


def _blob(h: int, w: int, cx: float, cy: float, sigma: float = 2.0) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2)).astype(np.float32)


def test_cc_centroid_border_moves_toward_a_near_border_only() -> None:
    # a symmetric blob 8 px from the left border: its centroid (8, 24) moves 2 px outward
    coords, labels = get_strategy("cc_centroid_border")(*_one(_blob(48, 64, 8.0, 24.0)))
    np.testing.assert_array_equal(coords[0], [[6, 24]])
    assert labels.tolist() == [[1]]
    # 12 px from the bottom border (y = 35 of 0..47): 1 px down; x far inside: unchanged
    coords, _ = get_strategy("cc_centroid_border")(*_one(_blob(48, 64, 32.0, 35.0)))
    np.testing.assert_array_equal(coords[0], [[32, 36]])
    # the heaviest of two components wins, as in cc_centroid
    cam = 0.9 * _blob(48, 64, 40.0, 24.0, sigma=4.0) + _blob(48, 64, 10.0, 10.0, sigma=1.0)
    coords, _ = get_strategy("cc_centroid_border")(*_one(np.clip(cam, 0, 1)))
    np.testing.assert_array_equal(coords[0], [[40, 24]])


def test_peak_local_max_fg_on_peak_bg_on_far_border() -> None:
    cam = np.zeros((24, 32), np.float32)
    cam[4, 5] = 1.0
    coords, labels = get_strategy("peak_local_max")(*_one(cam))
    fg = coords[0][labels[0] == 1]
    bg = coords[0][labels[0] == 0]
    np.testing.assert_array_equal(fg, [[5, 4]])
    for x, y in bg:
        assert x in (0, 31) or y in (0, 23)
        assert np.hypot(x - 5, y - 4) > 15


def test_gmm_splits_hot_blob_from_cold_background() -> None:
    cam = np.full((24, 32), 0.1, np.float32)
    cam[5:12, 6:14] = 0.9
    coords, labels = get_strategy("gmm")(*_one(cam))
    (fx, fy), (bx, by) = coords[0]
    assert labels[0].tolist() == [1, 0]
    assert 6 <= fx < 14 and 5 <= fy < 12
    assert cam[by, bx] == pytest.approx(0.1) and np.hypot(bx - fx, by - fy) > 15


def _scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth background, a flat disc of another colour, and a coarse, offset heat map."""
    rng = np.random.default_rng(seed)
    h, w = 24, 32
    yy, xx = np.mgrid[0:h, 0:w]
    bg = np.stack([60 + 3 * xx, 80 + 2 * yy, 120 + xx - yy], axis=-1)
    cx, cy = rng.integers(8, 24), rng.integers(7, 17)
    mask = np.hypot(xx - cx, yy - cy) <= 4.5
    image = bg.copy()
    image[mask] = rng.integers(0, 256, 3) // 2 + 128 * (rng.random(3) < 0.5)
    # heat: a broad bump whose peak sits just off the disc
    cam = np.exp(-((xx - cx - 5) ** 2 + (yy - cy + 3) ** 2) / 50.0)
    return cam.astype(np.float32), np.clip(image, 0, 255).astype(np.uint8), mask


@pytest.mark.parametrize("name", list_strategies(family="image"))
def test_image_aware_strategies_find_the_flat_shape(name: str) -> None:
    scenes = [_scene(s) for s in range(4)]
    cams, images, masks = (np.stack(a) for a in zip(*scenes, strict=True))
    coords, labels = get_strategy(name)(cams, images)
    for b in range(len(scenes)):
        for (x, y), lab in zip(coords[b], labels[b], strict=True):
            assert masks[b, y, x] == bool(lab), (b, x, y, lab)
    # the heat peak itself is off the disc in these scenes: the image is what finds it
    argmax, _ = get_strategy("cam_argmax")(cams, images)
    assert not all(masks[b, y, x] for b, (x, y) in enumerate(argmax[:, 0]))


def test_multiscale_heat_point_is_the_faint_square_interior() -> None:
    # a square only 12 grey levels above a flat background, a stronger step away from the heat:
    # the point is exactly the square's interior point (where it differs from segment_heat, on
    # a translucent triangle over texture, is tests/test_hard_cases.py)
    image = np.full((48, 64, 3), 100, np.uint8)
    image[:, 32:] = 160  # a strong step elsewhere, away from the heat
    square = np.zeros((48, 64), bool)
    square[14:26, 8:20] = True
    image[square] = 112
    yy, xx = np.mgrid[:48, :64]
    cam = np.exp(-((xx - 14) ** 2 + (yy - 20) ** 2) / 80.0).astype(np.float32)
    coords, labels = get_strategy("multiscale_heat")(cam[None], image[None])
    assert labels[0].tolist() == [1]
    assert tuple(coords[0, 0]) == interior_point(square)


def test_multiscale_heat_is_the_best_of_its_candidate_sets() -> None:
    """multiscale_heat's candidates are Felzenszwalb segments at ``scales`` and flood fills at
    ``tolerances`` (none by default): with one scale and no tolerance it is segment_heat, with
    no scale and one tolerance flood_heat, and with both its point is one of theirs."""
    from prompting.image_aware import flood_heat, multiscale_heat, segment_heat

    rng = np.random.default_rng(3)
    image = np.clip(rng.normal(120, 14, (48, 64, 3)), 0, 255)
    image[18:32, 20:36] = 0.6 * image[18:32, 20:36] + 0.4 * np.array([230.0, 40.0, 40.0])
    image = image.astype(np.uint8)
    yy, xx = np.mgrid[:48, :64]
    cam = np.exp(-((xx - 30) ** 2 + (yy - 26) ** 2) / 60.0).astype(np.float32)
    for scale in (50.0, 300.0):
        np.testing.assert_array_equal(
            multiscale_heat(cam, image, scales=(scale,), tolerances=())[0],
            segment_heat(cam, image, scale=scale)[0],
        )
    for tolerance in (8.0, 16.0):
        np.testing.assert_array_equal(
            multiscale_heat(cam, image, scales=(), tolerances=(tolerance,))[0],
            flood_heat(cam, image, tolerance=tolerance)[0],
        )
    singles = [tuple(segment_heat(cam, image, scale=s)[0][0]) for s in (50.0, 100.0, 300.0)]
    singles += [tuple(flood_heat(cam, image, tolerance=t)[0][0]) for t in (8.0, 16.0)]
    both = multiscale_heat(cam, image, tolerances=(8.0, 16.0))
    assert tuple(both[0][0]) in singles
    with pytest.raises(ValueError, match="at least one"):
        multiscale_heat(cam, image, scales=(), tolerances=())


def test_oracles_inside_and_outside() -> None:
    mask = np.zeros((20, 30), bool)
    mask[3:10, 20:28] = True
    cam = np.zeros((20, 30), np.float32)
    coords, _ = get_strategy("oracle_interior")(*_one(cam, mask=mask))
    x, y = coords[0, 0]
    assert mask[y, x] and 22 <= x <= 25 and 5 <= y <= 7
    coords, _ = get_strategy("oracle_interior_bg")(*_one(cam, mask=mask))
    (fx, fy), (bx, by) = coords[0]
    assert mask[fy, fx] and not mask[by, bx]
    assert (bx, by) == (0, 19)


# ---------------------------------------------------------------- points helpers


def test_validate_points_accepts_and_converts() -> None:
    coords, labels = validate_points(np.array([[1.0, 2.0]]), np.array([1]), (5, 5))
    assert coords.dtype == np.int64 and labels.dtype == np.int64
    coords, labels = validate_points(
        np.zeros((3, 2, 2), np.int32), np.ones((3, 2), np.int8), (1, 1)
    )
    assert coords.shape == (3, 2, 2)


@pytest.mark.parametrize(
    ("coords", "labels", "match"),
    [
        (np.zeros((2, 3)), np.ones(2), "coords must be"),
        (np.zeros((2, 2)), np.ones(3), "does not match"),
        (np.zeros((0, 2)), np.ones(0), "no points"),
        (np.array([[0.5, 1.0]]), np.ones(1), "integers"),
        (np.array([[1, 1]]), np.array([2]), "0 or 1"),
        (np.array([[1, 1]]), np.array([0.5]), "labels must be integers"),
        (np.array([[5, 1]]), np.ones(1, int), "outside"),
        (np.array([[1, -1]]), np.ones(1, int), "outside"),
    ],
)
def test_validate_points_rejects(coords, labels, match) -> None:
    with pytest.raises(PointsError, match=match):
        validate_points(coords, labels, (5, 5))


def test_interior_point_and_distance_from() -> None:
    region = np.zeros((10, 20), bool)
    region[2:9, 1:6] = True
    x, y = interior_point(region)
    assert region[y, x] and (x, y) == (3, 5)
    assert interior_point(np.zeros((6, 8), bool)) == (4, 3)
    # a region cut by the image border: the point is kept off the border
    edge = np.zeros((10, 10), bool)
    edge[:, :3] = True
    assert interior_point(edge, centroid_min_depth=None)[0] == 1
    assert argmax_xy(distance_from(region)) == (19, 0)  # the farthest pixel


def test_tolerance_components_and_region_stats() -> None:
    from prompting.image_aware import neighbour_steps, region_stats, tolerance_components

    image = np.zeros((6, 8, 3), np.uint8)
    image[:, :, 0] = np.arange(8) * 3  # a gentle ramp: steps of 3 stay joined
    image[1:4, 5:7] = (200, 0, 0)  # a flat block with a hard edge
    steps = neighbour_steps(image)
    labels, n = tolerance_components(steps, tolerance=10.0)
    assert n == 2
    block = labels == labels[2, 5]
    np.testing.assert_array_equal(np.argwhere(block), np.argwhere(image[..., 0] == 200))
    cam = np.zeros((6, 8), np.float32)
    cam[1:4, 5:7] = 1.0
    stats = region_stats(labels, n, cam, steps)
    k = labels[2, 5]
    assert stats.area[k] == 6 and stats.heat[k] == 1.0
    assert stats.inner_step[k] == 0.0 and stats.edge_step[k] > 150
    assert stats.border_share[k] == 0.0 and stats.border_share[1 - k] > 0.5


def test_unclipped_steps_leave_out_what_clipping_erased() -> None:
    """A channel at the same bound in both neighbours is left out and the rest scaled to three
    channels; a pair clipped in every channel gets the image's median step."""
    from prompting.image_aware import neighbour_steps, unclipped_steps

    image = np.zeros((1, 4, 3), np.uint8)
    image[0, 0] = (255, 10, 10)
    image[0, 1] = (255, 14, 13)  # red clipped in both: sqrt(3 / 2 * (16 + 9)) = 6.12
    image[0, 2] = (255, 255, 255)
    image[0, 3] = (255, 255, 255)  # clipped in all three: the median of the other two pairs
    dx, dy = unclipped_steps(image)
    plain_dx, _ = neighbour_steps(image)
    assert dx.shape == plain_dx.shape == (1, 3) and dy.shape == (0, 4)
    assert dx.dtype == np.float32
    np.testing.assert_allclose(dx[0, 0], np.sqrt(1.5 * 25), rtol=1e-6)
    np.testing.assert_allclose(dx[0, 1], np.sqrt(1.5 * (241**2 + 242**2)), rtol=1e-6)
    np.testing.assert_allclose(dx[0, 2], np.median(dx[0, :2]), rtol=1e-6)
    assert plain_dx[0, 2] == 0.0  # the plain step calls the clipped pair flat
    # nothing clipped: the same as neighbour_steps; opposite bounds are a real step
    rng = np.random.default_rng(0)
    free = rng.integers(1, 255, (5, 6, 3)).astype(np.uint8)
    for got, want in zip(unclipped_steps(free), neighbour_steps(free), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    bounds = np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8)
    np.testing.assert_allclose(unclipped_steps(bounds)[0], [[255 * np.sqrt(3)]], rtol=1e-6)


def test_a_clipped_patch_does_not_pass_for_a_flat_shape() -> None:
    """On a noisy background, a patch pushed past white is flat only because it was clipped: its
    inside variation counts as the image's typical step, not 0, so a noisy translucent shape
    wins under a uniform heat map (measuring clipped pairs as flat, every strategy picked the
    patch)."""
    from prompting import get_strategy

    rng = np.random.default_rng(1)
    image = rng.normal(128, 12, (48, 64, 3))
    image[:, 32:] += 105  # a bright half, partly clipped
    image[8:22, 40:56] += 60  # pushed past white: clipped flat
    mask = np.zeros((48, 64), bool)
    mask[26:40, 10:24] = True
    image[mask] = 0.5 * image[mask] + 0.5 * np.array([20.0, 200.0, 60.0])  # translucent shape
    image = np.clip(image, 0, 255).astype(np.uint8)
    assert (image[8:22, 40:56] == 255).all(-1).mean() > 0.99
    cam = np.full((48, 64), 0.2, np.float32)
    for name in ("segment_heat", "multiscale_heat", "flood_heat"):
        coords, labels = get_strategy(name)(cam[None], image[None])
        x, y = coords[0][labels[0] == 1][0]
        assert mask[y, x], name


def test_edge_step_is_the_geometric_mean_over_the_outline() -> None:
    """Two cut pairs with colour steps 3 and 99: (4 * 100) ** 0.5 - 1 = 19, not their mean 51;
    an outline strong on one side only scores lower than one strong all around."""
    from prompting.image_aware import neighbour_steps, region_stats

    image = np.zeros((2, 3, 3), np.uint8)
    image[0, 0, 0], image[1, 0, 0] = 3, 99  # column 0 is region 0, columns 1-2 region 1 (black)
    labels = np.array([[0, 1, 1], [0, 1, 1]])
    steps = neighbour_steps(image)
    stats = region_stats(labels, 2, np.zeros((2, 3), np.float32), steps)
    np.testing.assert_allclose(stats.edge_step, [19.0, 19.0], rtol=1e-6)


def test_sharpness_tells_a_one_pixel_step_from_a_smooth_ramp() -> None:
    """A flat block with a one-pixel step of 40 on a flat background: every cut pair has no step
    beside it, so the sharpness is 41. The same block cut out of a ramp of steps of 10 (the
    boundary lies inside the gradient): steps of 10 beside steps of 10, sharpness 1. A cut pair
    at the image border only has the step on its other side."""
    from prompting.image_aware import neighbour_steps, region_stats

    labels = np.zeros((7, 9), np.int64)
    labels[2:5, 3:6] = 1
    block = np.zeros((7, 9, 3), np.uint8)
    block[labels == 1] = (40, 0, 0)
    cam = np.zeros((7, 9), np.float32)
    stats = region_stats(labels, 2, cam, neighbour_steps(block))
    np.testing.assert_allclose(stats.sharpness, [41.0, 41.0], rtol=1e-6)
    ramp = np.zeros((7, 9, 3), np.uint8)
    ramp[:, :, 0] = np.arange(9) * 10
    stats = region_stats(labels, 2, cam, neighbour_steps(ramp))
    # the left and right sides cut a step of 10 between steps of 10; the top and bottom cut 0s
    np.testing.assert_allclose(stats.sharpness, [11.0 / 11.0] * 2, rtol=1e-6)
    edge = np.zeros((1, 3), np.int64)
    edge[0, 0] = 1  # the cut pair (0, 1) has only the pair (1, 2) beside it
    bar = np.array([[[0, 0, 0], [30, 0, 0], [35, 0, 0]]], np.uint8)
    got = region_stats(edge, 2, np.zeros((1, 3), np.float32), neighbour_steps(bar)).sharpness
    np.testing.assert_allclose(got, [31.0 / 6.0] * 2, rtol=1e-6)


def test_core_counts_pixels_that_survive_one_erosion() -> None:
    """A 2-px bar has no core, a 3 x 3 block one pixel, a 4 x 5 block 2 x 3; at the image border
    the outside counts as another region."""
    from prompting.image_aware import neighbour_steps, region_stats

    labels = np.zeros((10, 12), np.int64)
    labels[1:3, 1:10] = 1  # a 2 x 9 bar
    labels[4:7, 1:4] = 2  # a 3 x 3 block
    labels[4:8, 6:11] = 3  # a 4 x 5 block
    labels[7:10, 0:3] = 4  # a 3 x 3 block in the corner: its centre still has 8 neighbours
    image = np.zeros((10, 12, 3), np.uint8)
    stats = region_stats(labels, 5, np.zeros((10, 12), np.float32), neighbour_steps(image))
    assert stats.core[1:].tolist() == [0, 1, 6, 1]
    whole = region_stats(
        np.zeros((3, 4), np.int64),
        1,
        np.zeros((3, 4), np.float32),
        neighbour_steps(np.zeros((3, 4, 3), np.uint8)),
    )
    assert whole.core.tolist() == [2]  # only the two pixels off the image border


def test_region_scores_size_prior() -> None:
    """1 inside [min_area, max_area], (area / min_area) ** small_power below, 1e-3 above."""
    from prompting.image_aware import RegionSettings, RegionStats, region_scores

    area = np.array([3.0, 7.5, 15.0, 100.0, 600.0, 601.0])
    ones = np.ones_like(area)
    stats = RegionStats(
        area=area,
        heat=ones * 0.7,  # + heat_floor 0.3 = 1
        edge_step=ones * 4.0,  # / (inner_step 1 + contrast_offset 3) = 1
        inner_step=ones,
        border_share=ones * 0.0,
        compactness=ones,
        core=ones,
        sharpness=ones,
    )
    scores = region_scores(stats, RegionSettings())
    np.testing.assert_allclose(scores, [0.2**3, 0.5**3, 1.0, 1.0, 1.0, 1e-3])
    thin = region_scores(replace(stats, core=np.zeros_like(area)), RegionSettings())
    np.testing.assert_allclose(thin, 0.5 * scores)  # thin_factor: no pixel with a full 3 x 3
    steeper = region_scores(stats, RegionSettings(small_power=5.0))
    np.testing.assert_allclose(steeper[:2], [0.2**5, 0.5**5])


def test_region_score_exponents() -> None:
    """The score is the product of the factors, each raised to its exponent: all 1 gives the
    plain product, 0 drops a factor, 2 squares it; a wrong number of exponents is refused."""
    from prompting.image_aware import (
        FACTORS,
        RegionSettings,
        RegionStats,
        region_factors,
        region_scores,
    )

    rng = np.random.default_rng(0)
    n = 20
    stats = RegionStats(
        area=rng.uniform(3, 700, n),
        heat=rng.uniform(0, 1, n),
        edge_step=rng.uniform(0, 40, n),
        inner_step=rng.uniform(0, 10, n),
        border_share=rng.uniform(0, 0.6, n),
        compactness=rng.uniform(0.1, 1.2, n),
        core=rng.integers(0, 3, n).astype(float),
        sharpness=rng.uniform(0.5, 20, n),
    )
    factors = region_factors(stats, RegionSettings())
    assert set(factors) == set(FACTORS)
    # the sharpness counts up to sharp_cap: a sharper outline than that scores no higher
    np.testing.assert_allclose(factors["sharp"], np.minimum(stats.sharpness, 2.5))
    uncapped = region_factors(stats, RegionSettings(sharp_cap=np.inf))["sharp"]
    np.testing.assert_allclose(uncapped, stats.sharpness)
    assert all((f > 0).all() for f in factors.values())
    product = np.prod([factors[k] for k in FACTORS], axis=0)
    np.testing.assert_allclose(region_scores(stats, RegionSettings()), product, rtol=1e-12)
    exps = [1.0] * len(FACTORS)
    exps[FACTORS.index("heat")] = 0.0
    exps[FACTORS.index("edge")] = 2.0
    got = region_scores(stats, RegionSettings(exponents=tuple(exps)))
    expected = product / factors["heat"] * factors["edge"]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="exponents"):
        RegionSettings(exponents=(1.0, 1.0))


def test_a_tiny_crisp_shape_beats_a_fuzzy_larger_region() -> None:
    """A 12-px rectangle (below min_area) with a hard edge under the heat wins against a faint
    larger blob away from it: the soft size prior lets a clearly shape-like region through."""
    image = np.full((48, 64, 3), 120, np.uint8)
    square = np.zeros((48, 64), bool)
    square[20:23, 30:34] = True
    image[square] = (220, 40, 40)
    blob = np.zeros((48, 64), bool)
    blob[5:15, 5:15] = True
    image[blob] = 132  # a faint, larger region far from the heat
    yy, xx = np.mgrid[:48, :64]
    cam = np.exp(-((xx - 31) ** 2 + (yy - 21) ** 2) / 60.0).astype(np.float32)
    for name in ("segment_heat", "multiscale_heat", "flood_heat"):
        coords, _ = get_strategy(name)(cam[None], image[None])
        x, y = coords[0, 0]
        assert square[y, x], (name, x, y)


def test_region_settings_are_keyword_parameters() -> None:
    from prompting.image_aware import flood_heat, segment_heat

    cam, image, _ = _scene(0)
    default = segment_heat(cam, image, None)
    for coords, labels in (
        segment_heat(cam, image, None, scale=300.0, heat_floor=0.3),
        get_strategy("segment_heat")(cam[None], image[None]),
    ):
        np.testing.assert_array_equal(np.reshape(coords, (-1, 2)), default[0])
        np.testing.assert_array_equal(np.ravel(labels), default[1])
    assert flood_heat(cam, image, None, n_bg=2, tolerance=8.0)[1].tolist() == [1, 0, 0]
    with pytest.raises(TypeError, match="no_such"):
        segment_heat(cam, image, None, no_such=1.0)


DROPPED = """
from prompting.points import make_points
from prompting.registry import register_strategy


@register_strategy(emits_background=False)
def dropped_corner(cam, image, mask=None):
    \"\"\"One foreground point at the top-left pixel (a strategy in a dropped-in file).\"\"\"
    return make_points([(0, 0)])
"""


def _script(name: str, *args: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_a_file_dropped_into_prompting_is_a_strategy(tmp_path: Path) -> None:
    # a ``prompting/`` folder elsewhere on sys.path extends the package (pkgutil.extend_path),
    # so the file never goes into the repository's own folder
    (tmp_path / "prompting").mkdir()
    (tmp_path / "prompting" / "dropped_corner.py").write_text(textwrap.dedent(DROPPED))
    paths = [str(ROOT), os.environ.get("PYTHONPATH", ""), str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    listed = _script("compare_strategies.py", "--list", env=env, cwd=tmp_path)
    assert re.search(r"dropped_corner +fg +heat +One foreground point at the top-left", listed)
    assert "dropped_corner" not in list_strategies()  # this process never saw the folder

    data = str(tmp_path / "ds")
    sizes = ("--train", "30", "--val", "10", "--test", "6")
    _script("prepare_data.py", "--out", data, *sizes, env=env, cwd=tmp_path)
    args = ("--data", data, "--classifier-preset", "tiny", "--segmenter", "flood_fill")
    dirs = ("--out", "out", "--checkpoints", "ck", "--cache-dir", "cache", "--no-variants")
    _script(
        "compare_strategies.py", *args, *dirs, "--strategies", "dropped_*", env=env, cwd=tmp_path
    )
    rows = json.loads((tmp_path / "out" / "metrics.json").read_text())["rows"]
    assert [(r["strategy"], r["kind"], r["n_images"]) for r in rows] == [
        ("dropped_corner", "fg", 6)
    ]
    assert rows[0]["description"].startswith("One foreground point at the top-left pixel")


# --- issue 13: a foreground and a background point never share a pixel ------------------------


def _degenerate_maps(h: int = 48, w: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    maps = [np.zeros((h, w)), np.ones((h, w)), np.full((h, w), 0.5), rng.random((h, w))]
    corner = np.zeros((h, w))
    corner[0, 0] = 1.0
    row = np.zeros((h, w))
    row[0, :] = 1.0
    return np.stack([*maps, corner, row]).astype(np.float32)


def test_peak_local_max_on_a_flat_map_keeps_points_apart() -> None:
    from prompting import get_strategy

    cams = _degenerate_maps()[:3]
    coords, labels = get_strategy("peak_local_max")(cams, np.zeros((*cams.shape, 3), np.uint8))
    for c, lab in zip(coords, labels, strict=True):
        fg = {tuple(p) for p in c[lab == 1].tolist()}
        assert fg and not fg & {tuple(p) for p in c[lab == 0].tolist()}


@pytest.mark.parametrize("mask_kind", ["square", "empty", "full"])
def test_no_strategy_puts_fg_and_bg_on_one_pixel(mask_kind: str) -> None:
    from prompting import get_strategy, list_strategies

    cams = _degenerate_maps()
    images = np.zeros((*cams.shape, 3), np.uint8)
    masks = np.zeros(cams.shape, bool)
    if mask_kind == "square":
        masks[:, 10:20, 10:20] = True
    elif mask_kind == "full":
        masks[:] = True
    for name in list_strategies():
        get_strategy(name)(cams, images, masks)  # the wrapper raises on a shared pixel


def test_the_wrapper_refuses_a_shared_pixel(scratch_registry) -> None:
    @register_strategy(emits_background=True)
    def _same_pixel(cam, image, mask=None):
        """Test strategy."""
        return np.array([[3, 4], [3, 4]]), np.array([1, 0])

    with pytest.raises(StrategyError, match=r"same pixel \(X, Y\) = \(3, 4\)"):
        get_strategy("_same_pixel")(
            np.zeros((1, 8, 8), np.float32), np.zeros((1, 8, 8, 3), np.uint8)
        )
