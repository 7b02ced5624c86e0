"""The batched SAM paths against the one-at-a-time ones, on the tiny random SAM: the batched
encoder (``SamSegmenter.encode``) gives the low-resolution logits and selected masks of
``set_image``; ``predict_sets`` gives each prompt set's ``predict`` outputs whatever the mix of
images and point counts; ``segment_prompt_sets`` gives ``segment_image``'s mask for every
selection and refinement, with SAM and with a classical back end; and the comparison's batched
step gives the per-prompt step's rows and masks."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.compare import CompareConfig, segment_rows
from evaluation.predictions import Predictions
from evaluation.results import ComparisonResults
from evaluation.sam_speed import benchmark_data
from sam_pipelines import (
    MASK_SELECTIONS,
    SamSegmenter,
    SegmenterError,
    make_segmenter,
    segment_image,
)
from sam_pipelines.prompt_batch import PromptJob, segment_prompt_sets

# Logits may differ by float32 rounding between a batch and a single call; masks are equal.
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _images(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 48, 64, 3), dtype=np.uint8)
    images[:, 10:30, 20:40] = (230, 40, 40)
    return images


def _sets() -> list[tuple[np.ndarray, np.ndarray]]:
    """Prompt sets of 1, 2 and 3 points, interleaved (X, Y pixel centres)."""
    return [
        (np.array([[30.5, 20.5]]), np.array([1])),
        (np.array([[30.5, 20.5], [2.5, 2.5]]), np.array([1, 0])),
        (np.array([[25.5, 15.5]]), np.array([1])),
        (np.array([[25.5, 15.5], [60.5, 40.5], [5.5, 44.5]]), np.array([1, 0, 0])),
        (np.array([[35.5, 25.5], [1.5, 40.5]]), np.array([1, 0])),
    ]


def _segmenter(tiny_sam, **options) -> SamSegmenter:
    return SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu", **options)


def test_batched_encoder_gives_the_one_by_one_logits_and_masks(tiny_sam) -> None:
    images = _images(5)
    one = _segmenter(tiny_sam)
    batched = _segmenter(tiny_sam)
    assert batched.encode(images, batch_size=3, progress=False) == 5
    assert batched.encoder_calls == 5
    for image in images:
        one.set_image(image)
        batched.set_image(image)  # restored from the cache: no encoder call
        for coords, labels in _sets():
            m1, s1, low1 = one.predict(coords, labels)
            m2, s2, low2 = batched.predict(coords, labels)
            np.testing.assert_allclose(low2, low1, **TOL)
            np.testing.assert_allclose(s2, s1, **TOL)
            k = int(np.argmax(s1))
            np.testing.assert_array_equal(m2[k], m1[k])
    assert batched.encoder_calls == 5 and one.encoder_calls == 5


@pytest.mark.parametrize("multimask", [True, False])
@pytest.mark.parametrize("max_sets", [64, 2])
def test_predict_sets_equals_predict_per_set(tiny_sam, multimask: bool, max_sets: int) -> None:
    images = _images(2, seed=5)
    sets = _sets() + _sets()[::-1]
    owner = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0]  # images interleaved
    seg = _segmenter(tiny_sam, max_sets=max_sets)
    expected = []
    for (c, lab), image in zip(sets, owner, strict=True):
        seg.set_image(images[image])
        expected.append(seg.predict(c, lab, multimask_output=multimask))
    calls = seg.decoder_calls
    got = seg.predict_sets(
        images, owner, [c for c, _ in sets], [lab for _, lab in sets], None, multimask
    )
    # one call per point count (4, 4 and 2 sets of 1, 2 and 3 points), split by max_sets
    assert seg.decoder_calls - calls == (3 if max_sets == 64 else 5)
    for (m1, s1, low1), (m2, s2, low2) in zip(expected, got, strict=True):
        np.testing.assert_array_equal(m2, m1)
        np.testing.assert_allclose(s2, s1, **TOL)
        np.testing.assert_allclose(low2.numpy(), low1, **TOL)
    refined = []
    for (c, lab), image, (_, _, low) in zip(sets, owner, expected, strict=True):
        seg.set_image(images[image])
        refined.append(seg.predict(c, lab, mask_input=low[:1], multimask_output=False))
    mask_inputs = [low[:1] for _, _, low in got]  # tensors, as predict_sets returns them
    again = seg.predict_sets(
        images, owner, [c for c, _ in sets], [lab for _, lab in sets], mask_inputs, False
    )
    for (m1, _, low1), (m2, _, low2) in zip(refined, again, strict=True):
        np.testing.assert_array_equal(m2, m1)
        np.testing.assert_allclose(low2.numpy(), low1, **TOL)


def test_predict_sets_names_its_bad_input(tiny_sam) -> None:
    seg = _segmenter(tiny_sam)
    with pytest.raises(SegmenterError, match="1 image indices for 2 prompt sets"):
        seg.predict_sets(_images(1), [0], [np.array([[3.5, 3.5]])] * 2, [np.array([1])] * 2)
    with pytest.raises(SegmenterError, match="uint8"):
        seg.predict_sets(_images(1)[0], [0], [np.array([[3.5, 3.5]])], [np.array([1])])
    with pytest.raises(SegmenterError, match="max_sets"):
        _segmenter(tiny_sam, max_sets=0)


def _jobs() -> list[PromptJob]:
    points = [(np.rint(c - 0.5).astype(int), lab) for c, lab in _sets()]
    return [
        PromptJob(c, lab, selection, refine)
        for c, lab in points
        for selection in MASK_SELECTIONS
        for refine in (False, True)
    ]


@pytest.mark.parametrize("backend", ["sam", "flood_fill"])
def test_segment_prompt_sets_equals_segment_image(tiny_sam, backend: str) -> None:
    images = _images(2, seed=3)
    cams = np.zeros((2, 48, 64), np.float32)
    cams[:, 10:30, 20:40] = 1.0
    jobs = [_jobs(), _jobs()[::-1]]

    def make():
        return (
            _segmenter(tiny_sam, max_sets=64) if backend == "sam" else make_segmenter("flood_fill")
        )

    seg = make()
    masks = segment_prompt_sets(seg, images, jobs, cams)
    if backend == "sam":
        # both images together: 3 calls for the distinct sets (by point count), 3 to refine
        assert seg.decoder_calls == 6
    plain = make()
    for image, cam, image_jobs, image_masks in zip(images, cams, jobs, masks, strict=True):
        for job, mask in zip(image_jobs, image_masks, strict=True):
            expected = segment_image(
                plain, image, job.coords, job.labels, cam, job.mask_selection, job.refine
            )
            np.testing.assert_array_equal(mask, expected.mask)


def test_bfloat16_is_for_cuda_only(tiny_sam) -> None:
    with pytest.raises(SegmenterError, match="CUDA only"):
        _segmenter(tiny_sam, precision="bfloat16")
    assert _segmenter(tiny_sam, precision="auto").precision == "float32"


def test_comparison_batched_step_equals_the_per_prompt_step(tiny_sam, tmp_path) -> None:
    data = benchmark_data(6, seed=1)
    names = ["center", "cam_argmax", "segment_heat_bg", "published_top10_corner"]
    out = {}
    for batched in (False, True):
        fresh = Predictions(data.names, data.images, data.gt_masks, data.classes, data.cams)
        results = ComparisonResults({}, predictions=fresh)
        seg = _segmenter(tiny_sam, cache_dir=tmp_path if batched else None)
        config = CompareConfig(sam_batched=batched, sam_batch_size=4, supervised=False)
        timing = segment_rows(results, seg, names, config)
        out[batched] = (results, timing, seg)
    (old, old_timing, old_seg), (new, new_timing, new_seg) = out[False], out[True]
    assert [r["strategy"] for r in new.rows] == [r["strategy"] for r in old.rows]
    assert len(old.rows) == 4 + 2 * 5  # strategies, then 5 variants of the best fg and fg+bg
    for a, b in zip(old.rows, new.rows, strict=True):
        assert a["miou"] == b["miou"], a["strategy"]
    assert old.predictions is not None and new.predictions is not None
    for name, pred in old.predictions.pred.items():
        np.testing.assert_array_equal(new.predictions.pred[name], pred, err_msg=name)
    assert old_timing["path"] == "per-prompt" and new_timing["path"] == "batched"
    assert new_seg.encoder_calls == old_seg.encoder_calls == 6
    assert new_seg.decoder_calls < old_seg.decoder_calls
    assert new_timing["embedding_cache"]["directory"] == str(tmp_path)
    assert len(list(tmp_path.glob("*.pt"))) == 6
