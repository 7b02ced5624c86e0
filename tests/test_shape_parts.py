"""multiscale_heat_parts' second point (prompting/shape_parts.py) and the fit of its model
(evaluation/continuation_fit.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hard_cases import hard_cases

from prompting.image_aware import (
    BestLabeling,
    RegionSettings,
    multiscale_heat,
    neighbour_steps,
    pair_log_sharpness,
    region_scores,
    region_stats,
    unclipped_steps,
)
from prompting.shape_parts import (
    CONTINUATION,
    FEATURES,
    ContinuationModel,
    _shared_boundaries,
    continuation_features,
    continuing_neighbour,
    multiscale_heat_parts,
)

H, W = 48, 64


def _banded_square() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A translucent square over a steep vertical gradient, labelled by hand as a segmentation
    that cut it in two: 1 its top band (under the heat), 2 its bottom band, 3 a background
    patch beside the top band, 0 the rest. Returns (image, labels, cam, square mask)."""
    rows = np.linspace(30, 230, H)[:, None, None]
    bg = np.broadcast_to(np.concatenate([rows, 0.6 * rows + 40, 200 - 0.5 * rows], -1), (H, W, 3))
    square = np.zeros((H, W), bool)
    square[12:30, 20:38] = True
    image = bg.copy()
    image[square] = 0.55 * np.array([200.0, 40.0, 160.0]) + 0.45 * bg[square]
    labels = np.zeros((H, W), np.int64)
    labels[12:21, 20:38] = 1
    labels[21:30, 20:38] = 2
    labels[12:21, 38:46] = 3
    yy, xx = np.mgrid[:H, :W]
    cam = np.exp(-((xx - 29) ** 2 + (yy - 15) ** 2) / 40.0).astype(np.float32)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), labels, cam, square


def _best(image: np.ndarray, labels: np.ndarray, cam: np.ndarray) -> BestLabeling:
    steps, inner = neighbour_steps(image), unclipped_steps(image)
    sharp = pair_log_sharpness(steps)
    stats = region_stats(labels, int(labels.max()) + 1, cam, steps, inner, sharp)
    scores = region_scores(stats, RegionSettings())
    return BestLabeling(labels, stats, scores, steps, inner, sharp)


def test_the_other_band_of_the_shape_continues_it_and_the_background_does_not() -> None:
    image, labels, cam, _ = _banded_square()
    best = _best(image, labels, cam)
    assert best.winner == 1
    ids, features = continuation_features(best, cam, RegionSettings())
    assert ids.tolist() == [2, 3]  # label 0 (the rest of the image) is too large a union
    assert features.shape == (2, len(FEATURES)) and np.isfinite(features).all()
    p = CONTINUATION.probability(features)
    assert p[0] > 0.99 and p[1] < 0.01
    # the band boundary is a gradient (no sharper than beside it), the patch's the square's edge
    sharp = features[:, FEATURES.index("shared_sharpness")]
    assert abs(sharp[0]) < 0.1 and sharp[1] > 3
    assert continuing_neighbour(best, cam, RegionSettings()) == 2


def test_no_second_region_without_a_qualifying_neighbour() -> None:
    image, labels, cam, _ = _banded_square()
    labels[labels == 2] = 0  # the bottom band joins the large background
    best = _best(image, labels, cam)
    assert continuing_neighbour(best, cam, RegionSettings()) is None
    strict = ContinuationModel(
        CONTINUATION.mean, CONTINUATION.scale, CONTINUATION.weights, CONTINUATION.bias, 1.0
    )
    image, labels, cam, _ = _banded_square()
    assert continuing_neighbour(_best(image, labels, cam), cam, RegionSettings(), strict) is None


def test_shared_boundaries_count_pairs_both_ways() -> None:
    labels = np.array([[0, 0, 1], [2, 0, 1]])
    dx = np.array([[1.0, 3.0], [5.0, 7.0]], np.float32)  # (0,1)-(0,2): 3; (1,0)-(1,1): 5
    dy = np.array([[2.0, 4.0, 6.0]], np.float32)  # (0,0)-(1,0): 2
    count, _, step = _shared_boundaries(labels, 0, (dx, dy), pair_log_sharpness((dx, dy)))
    assert count.tolist() == [0, 2, 2]  # label 1: two pairs to the right; label 2: left, below
    assert step[1] == pytest.approx((np.log1p(3.0) + np.log1p(7.0)) / 2)
    assert step[2] == pytest.approx((np.log1p(5.0) + np.log1p(2.0)) / 2)


def test_model_checks_its_lengths() -> None:
    with pytest.raises(ValueError, match="weights: need 11"):
        ContinuationModel((0.0,) * 11, (1.0,) * 11, (0.0,) * 3, 0.0, 0.5)


CASES = hard_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parts_keeps_multiscale_heats_point_first(case) -> None:
    coords, labels = multiscale_heat_parts(case.cam, case.image)
    first, _ = multiscale_heat(case.cam, case.image)
    assert coords.shape == (2, 2) and labels.tolist() == [1, 1]
    np.testing.assert_array_equal(coords[0], first[0])


def test_parts_prompts_both_bands_and_flood_fill_joins_them(monkeypatch) -> None:
    """A square whose background brightens steeply under its lower half: flood_fill from the
    top band's point returns that band only. Given the segmentation that cut the square in
    two (by hand here), the strategy prompts both bands, and flood_fill from both points
    returns the whole square."""
    import prompting.shape_parts as shape_parts
    from sam_pipelines.flood_fill import FloodFillSegmenter
    from sam_pipelines.pipeline import segment_image

    ramp = np.clip((np.arange(H) - 19) / 4.0, 0, 1)[:, None, None] * 120 + 40
    bg = np.broadcast_to(np.concatenate([ramp, 0.8 * ramp + 20, 180 - 0.5 * ramp], -1), (H, W, 3))
    square = np.zeros((H, W), bool)
    square[12:30, 20:38] = True
    image = bg.copy()
    image[square] = 0.35 * np.array([200.0, 40.0, 160.0]) + 0.65 * bg[square]
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    labels = np.zeros((H, W), np.int64)
    labels[12:20, 20:38] = 1
    labels[20:30, 20:38] = 2
    labels[12:20, 38:46] = 3
    _, _, cam, _ = _banded_square()
    best = _best(image, labels, cam)
    monkeypatch.setattr(shape_parts, "best_labeling", lambda *args, **kwargs: best)
    lenient = ContinuationModel(
        CONTINUATION.mean, CONTINUATION.scale, CONTINUATION.weights, CONTINUATION.bias, 0.5
    )
    coords, labels_out = multiscale_heat_parts(cam, image, model=lenient)
    (x0, y0), (x1, y1) = coords
    assert labels[y0, x0] == 1 and labels[y1, x1] == 2
    seg = FloodFillSegmenter()
    one = segment_image(seg, image, coords[:1], labels_out[:1]).mask
    both = segment_image(seg, image, coords, labels_out).mask
    assert (one & square).sum() == 144  # the top band, 8 x 18
    assert (both & square).sum() > 250 and not (both & ~square).any()


def test_fit_separates_and_the_second_point_is_each_images_likeliest() -> None:
    from evaluation.continuation_fit import Examples, fit_model, second_points

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(FEATURES)))
    good = x[:, 0] - x[:, 2] > 1.0
    examples = Examples(
        name="synthetic",
        features=x,
        good=good,
        image=np.arange(400) // 4,
        point=np.zeros((400, 2), np.int64),
        first=np.zeros((100, 2), np.int64),
        iou_one=np.zeros(100),
        iou_oracle=np.zeros(100),
    )
    model = fit_model([examples], threshold=0.9)
    assert model.weights[0] > 0 > model.weights[2] and model.threshold == 0.9
    p = model.probability(x)
    assert p[good].mean() > 0.8 and p[~good].mean() < 0.1
    chosen = second_points(examples, model)
    assert chosen  # some image has a candidate above 0.9
    for i, m in chosen.items():
        assert examples.image[m] == i and p[m] == p[examples.image == i].max() >= 0.9
    assert all(p[examples.image == i].max() < 0.9 for i in set(range(100)) - set(chosen))


def test_collecting_needs_the_runs_predictions() -> None:
    from evaluation.continuation_fit import collect_examples
    from evaluation.results import ComparisonResults

    with pytest.raises(ValueError, match=r"need predictions\.npz with the rows multiscale_heat"):
        collect_examples(ComparisonResults({"config": {}}), "run")
