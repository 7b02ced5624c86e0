"""The pipelines on the real SamPredictor path (a tiny random SAM): coordinate order, resizing,
mask shapes, background labels, the encoder count across strategies and pipelines, shape
checks, mask selection, refinement, and the two approaches' strategy validation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from conftest import TINY_SAM_IMG_SIZE

from classifier import build_classifier
from sam_pipelines import (
    BasicSamPipeline,
    ForegroundBackgroundPointsPipeline,
    ForegroundPointsPipeline,
    SamSegmenter,
    SegmenterError,
    SegmenterFallbackWarning,
    center_prompts,
    resolve_segmenter,
    segment_image,
    segment_with_points,
    select_mask,
)
from sam_pipelines.selection import cam_agreement
from shapes.transforms import normalize_uint8

H, W = 48, 64


class PromptSpy:
    """Records what reaches SAM's prompt encoder and image encoder."""

    def __init__(self, sam) -> None:
        self.points: list[tuple[np.ndarray, np.ndarray]] = []
        self.mask_inputs: list[torch.Tensor | None] = []
        self.encoder_inputs: list[torch.Tensor] = []
        sam.prompt_encoder.register_forward_pre_hook(self._prompt, with_kwargs=True)
        sam.image_encoder.register_forward_pre_hook(self._image)

    def _prompt(self, _module, _args, kwargs):
        coords, labels = kwargs["points"]
        self.points.append((coords.numpy().copy(), labels.numpy().copy()))
        self.mask_inputs.append(kwargs["masks"])

    def _image(self, _module, args):
        self.encoder_inputs.append(args[0].detach().clone())


def _uint8_images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, H, W, 3), dtype=np.uint8)


@pytest.fixture
def spy_and_pipeline(tiny_sam):
    spy = PromptSpy(tiny_sam)
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    return spy, BasicSamPipeline(seg)


# ----------------------------------------------------------------------- the SamPredictor path
def test_call_prompts_the_centre_in_x_y_order_through_the_resize(spy_and_pipeline) -> None:
    spy, pipeline = spy_and_pipeline
    images = normalize_uint8(_uint8_images(2))
    out = pipeline(images)
    assert out.dtype == torch.bool and out.shape == (2, H, W)
    scale = TINY_SAM_IMG_SIZE / W  # ResizeLongestSide: the long side (W = 64) becomes 128
    for coords, labels in spy.points:
        np.testing.assert_allclose(coords, [[[W // 2 * scale, H // 2 * scale]]])  # (X, Y)
        np.testing.assert_array_equal(labels, [[1]])


def test_segment_coordinates_reach_the_model_as_x_y(spy_and_pipeline) -> None:
    spy, pipeline = spy_and_pipeline
    images = normalize_uint8(_uint8_images(1))
    coords = np.array([[[50, 10], [3, 40]]])  # X = 50 exists only as a column of a 48 x 64 image
    labels = np.array([[1, 0]])
    pipeline.segment(images, coords, labels)
    got_coords, got_labels = spy.points[0]
    scale = TINY_SAM_IMG_SIZE / W
    np.testing.assert_allclose(got_coords, [[[100.0, 20.0], [6.0, 80.0]]])
    assert scale == 2.0
    np.testing.assert_array_equal(got_labels, [[1, 0]])  # the background label arrives


def test_image_is_resized_to_the_model_input(spy_and_pipeline) -> None:
    spy, pipeline = spy_and_pipeline
    uint8 = _uint8_images(1)
    pipeline.segment(normalize_uint8(uint8), *center_prompts(1, (H, W)))
    (x,) = spy.encoder_inputs
    assert x.shape == (1, 3, TINY_SAM_IMG_SIZE, TINY_SAM_IMG_SIZE)
    predictor = pipeline.segmenter.predictor
    assert predictor.original_size == (H, W)
    assert predictor.input_size == (96, 128)  # 48 x 64 scaled by 2, then padded to 128 x 128
    assert torch.all(x[:, :, 96:, :] == 0) and x[:, :, :96, :].abs().sum() > 0


def test_segment_returns_the_highest_scoring_mask_at_input_size(tiny_sam) -> None:
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    pipeline = BasicSamPipeline(seg)
    uint8 = _uint8_images(3, seed=1)
    coords, labels = center_prompts(3, (H, W))
    result = pipeline.segment_uint8(uint8, coords, labels)
    assert result.masks.shape == (3, H, W) and result.masks.dtype == bool
    assert result.candidates.shape == (3, 3, H, W) and result.scores.shape == (3, 3)
    np.testing.assert_array_equal(result.chosen, result.scores.argmax(axis=1))
    for i in range(3):
        np.testing.assert_array_equal(result.masks[i], result.candidates[i, result.chosen[i]])
        seg.set_image(uint8[i])
        masks, scores, _ = seg.predict(coords[i].astype(float), labels[i])
        np.testing.assert_array_equal(result.masks[i], masks[np.argmax(scores)])
    assert result.segmenter == "sam" and result.segmenter_kind == "sam"
    via_tensor = pipeline.segment(normalize_uint8(uint8), coords, labels)
    np.testing.assert_array_equal(via_tensor.numpy(), result.masks)


def test_encoder_runs_once_per_distinct_image_across_strategies_and_pipelines(tiny_sam) -> None:
    spy = PromptSpy(tiny_sam)
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu", cache_size=16)
    pipelines = [
        BasicSamPipeline(seg),
        BasicSamPipeline(seg, mask_selection="reject_large", refine=True),
    ]
    uint8 = _uint8_images(4, seed=2)
    rng = np.random.default_rng(0)
    strategies = [  # three "strategies": different prompts for the same images
        center_prompts(4, (H, W)),
        (rng.integers(0, [W, H], (4, 2, 2)), np.tile([[1, 0]], (4, 1))),
        (rng.integers(0, [W, H], (4, 3, 2)), np.ones((4, 3), np.int64)),
    ]
    for pipeline in pipelines:
        for coords, labels in strategies:
            pipeline.segment_uint8(uint8, coords, labels)
    pipelines[0](normalize_uint8(uint8[:2]))  # the tensor path: same content, same cache
    assert len(spy.encoder_inputs) == seg.encoder_calls == 4


# ----------------------------------------------------------------------------- shape checks
@pytest.mark.parametrize(
    ("coords", "labels", "error", "match"),
    [
        (np.zeros((2, 1, 3), np.int64), np.ones((2, 1), np.int64), ValueError, r"\(B=2, N, 2\)"),
        (np.zeros((3, 1, 2), np.int64), np.ones((3, 1), np.int64), ValueError, r"\(B=2, N, 2\)"),
        (np.zeros((2, 1, 2), np.int64), np.ones((2, 2), np.int64), ValueError, "point_labels"),
        (np.zeros((2, 1, 2)), np.ones((2, 1), np.int64), TypeError, "integer"),
        (np.zeros((2, 1, 2), np.int64), np.full((2, 1), 2), ValueError, "point_labels"),
        (np.full((2, 1, 2), [10, 60]), np.ones((2, 1), np.int64), ValueError, "row, col"),
        ([[[1, 1]], [[1, 1]]], np.ones((2, 1), np.int64), TypeError, "numpy"),
    ],
)
def test_segment_shape_checks(tiny_sam, coords, labels, error, match) -> None:
    pipeline = BasicSamPipeline(SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu"))
    images = normalize_uint8(_uint8_images(2))
    with pytest.raises(error, match=match):
        pipeline.segment(images, coords, labels)


def test_image_shape_checks() -> None:
    pipeline = BasicSamPipeline("flood_fill")
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        pipeline(torch.zeros(3, H, W))
    with pytest.raises(TypeError, match="Tensor"):
        pipeline(np.zeros((1, 3, H, W), np.float32))
    with pytest.raises(ValueError, match="uint8"):
        pipeline.segment_uint8(np.zeros((1, H, W, 3)), *center_prompts(1, (H, W)))


# ------------------------------------------------------------- options beyond the template
def test_select_mask_choices() -> None:
    masks = np.zeros((3, 10, 10), bool)
    masks[0, :, :] = True  # the whole image
    masks[1, 2:5, 2:5] = True  # small, where the CAM is
    masks[2, 6:9, 6:9] = True  # small, elsewhere
    scores = np.array([0.9, 0.5, 0.6])
    cam = np.zeros((10, 10), np.float32)
    cam[1:6, 1:6] = 1.0
    assert select_mask("score", masks, scores) == 0
    assert select_mask("reject_large", masks, scores, max_fraction=0.5) == 2
    assert select_mask("cam", masks, scores, cam=cam) == 1
    assert cam_agreement(masks, cam)[1] == pytest.approx(9 / 25)
    with pytest.raises(ValueError, match="cam=None"):
        select_mask("cam", masks, scores)
    with pytest.raises(ValueError, match="mask_selection"):
        select_mask("biggest", masks, scores)
    only_large = np.ones((3, 10, 10), bool)
    only_large[1, 0, 0] = False
    assert select_mask("reject_large", only_large, scores) == 1  # the smallest


def test_cam_selection_needs_cams_and_unknown_choice_fails() -> None:
    pipeline = BasicSamPipeline("flood_fill", mask_selection="cam")
    images = normalize_uint8(_uint8_images(1))
    with pytest.raises(ValueError, match="needs the CAMs"):
        pipeline(images)
    with pytest.raises(ValueError, match="mask_selection"):
        BasicSamPipeline("flood_fill", mask_selection="largest")


def test_refine_feeds_the_chosen_low_res_logits_back(tiny_sam) -> None:
    spy = PromptSpy(tiny_sam)
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    pipeline = BasicSamPipeline(seg, refine=True)
    uint8 = _uint8_images(1)
    result = pipeline.segment_uint8(uint8, *center_prompts(1, (H, W)))
    assert spy.mask_inputs[0] is None
    fed = spy.mask_inputs[1]
    low_res = TINY_SAM_IMG_SIZE // 4
    assert fed is not None and tuple(fed.shape) == (1, 1, low_res, low_res)
    seg.set_image(uint8[0])
    _, _, logits = seg.predict(np.array([[W // 2, H // 2]], float), np.array([1]))
    np.testing.assert_allclose(fed[0].numpy(), logits[result.chosen[0]][None], rtol=1e-6)
    assert result.settings["refine"] is True


# --------------------------------------------------------------------------------- the approaches
@dataclass
class StandInStrategy:
    """A minimal strategy object with the prompting interface (the registry's own are tested
    below as well)."""

    name: str
    emits_background: bool
    oracle: bool = False
    description: str = "test stand-in"

    def __call__(self, cams, images, masks=None):
        b, _h, w = cams.shape
        peak = cams.reshape(b, -1).argmax(axis=1)
        fg = np.stack([peak % w, peak // w], axis=1)[:, None]
        if not self.emits_background:
            return fg.astype(np.int64), np.ones((b, 1), np.int64)
        bg = np.tile([[[0, 0]]], (b, 1, 1))
        return np.concatenate([fg, bg], 1).astype(np.int64), np.tile([[1, 0]], (b, 1))


class StandInCAM:
    """A CAM class with ``cam.GradCAM``'s interface: a bump at (X=40, Y=20)."""

    def __init__(self, model, target_layers) -> None:
        self.model, self.target_layers = model, list(target_layers)

    def __call__(self, images, targets=None) -> np.ndarray:
        b, _, h, w = images.shape
        yy, xx = np.mgrid[:h, :w]
        bump = np.exp(-((xx - 40) ** 2 + (yy - 20) ** 2) / 50.0).astype(np.float32)
        return np.repeat(bump[None], b, axis=0)


@pytest.fixture(scope="module")
def classifier() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_classifier(imagenet_weights=False).eval()


def test_approaches_validate_the_strategy_kind(classifier) -> None:
    fg, fgbg = StandInStrategy("fg_only", False), StandInStrategy("with_bg", True)
    with pytest.raises(ValueError, match=r"does not emit background.*'with_bg' emits"):
        ForegroundPointsPipeline(classifier, fgbg, StandInCAM, segmenter="flood_fill")
    with pytest.raises(ValueError, match=r"emits background.*'fg_only' does not emit"):
        ForegroundBackgroundPointsPipeline(classifier, fg, StandInCAM, segmenter="flood_fill")
    with pytest.raises(ValueError, match="oracle"):
        ForegroundPointsPipeline(
            classifier, StandInStrategy("o", False, oracle=True), StandInCAM, segmenter="flood_fill"
        )
    with pytest.raises(TypeError, match="strategy"):
        ForegroundPointsPipeline(classifier, object(), StandInCAM, segmenter="flood_fill")


def test_approaches_validate_registered_strategies(classifier) -> None:
    from prompting import get_strategy, list_strategies

    by_kind = {
        kind: [
            n
            for n in list_strategies(include_oracles=False)
            if get_strategy(n).emits_background == kind
        ]
        for kind in (False, True)
    }
    assert by_kind[False] and by_kind[True]
    ForegroundPointsPipeline(classifier, by_kind[False][0], StandInCAM, segmenter="flood_fill")
    with pytest.raises(ValueError, match="does not emit background"):
        ForegroundPointsPipeline(classifier, by_kind[True][0], StandInCAM, segmenter="flood_fill")
    with pytest.raises(ValueError, match="emits background"):
        ForegroundBackgroundPointsPipeline(
            classifier, by_kind[False][0], StandInCAM, segmenter="flood_fill"
        )
    with pytest.raises(ValueError, match="oracle"):
        ForegroundBackgroundPointsPipeline(
            classifier, "oracle_interior_bg", StandInCAM, segmenter="flood_fill"
        )


def test_fg_bg_pipeline_sends_cam_points_and_background_labels_to_sam(classifier, tiny_sam) -> None:
    spy = PromptSpy(tiny_sam)
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    pipeline = ForegroundBackgroundPointsPipeline(
        classifier, StandInStrategy("with_bg", True), StandInCAM, segmenter=seg
    )
    assert pipeline.cam.target_layers == [classifier.layer2[-1]]  # the default target layer
    out = pipeline(normalize_uint8(_uint8_images(2)))
    assert out.shape == (2, H, W) and out.dtype == torch.bool
    for coords, labels in spy.points:
        np.testing.assert_allclose(coords, [[[80.0, 40.0], [0.0, 0.0]]])  # (40, 20) and (0, 0), x2
        np.testing.assert_array_equal(labels, [[1, 0]])
    assert pipeline.settings()["approach"] == "fg+bg"


def test_fg_pipeline_with_real_gradcam_and_strategy(classifier) -> None:
    from cam import GradCAM

    pipeline = ForegroundPointsPipeline(
        classifier, "cam_argmax", GradCAM, segmenter="flood_fill", mask_selection="cam"
    )
    images = normalize_uint8(_uint8_images(2, seed=3))
    prompts = pipeline.prompts(images)
    assert prompts.cams.shape == (2, H, W) and prompts.coords.shape[0] == 2
    assert np.all(prompts.labels == 1)
    out = pipeline(images)
    assert out.shape == (2, H, W) and out.dtype == torch.bool
    assert pipeline.settings()["segmenter"] == "flood_fill"


# ------------------------------------------------------------- the comparison's entry points
def test_segment_with_points_matches_the_pipeline(tiny_sam) -> None:
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    uint8 = _uint8_images(2, seed=4)
    coords = np.array([[[5, 5], [60, 40]], [[30, 20], [1, 47]]])
    labels = np.array([[1, 0], [1, 1]])
    pipeline = BasicSamPipeline(seg, mask_selection="reject_large", refine=True)
    result = pipeline.segment_uint8(uint8, coords, labels)
    for i in range(2):
        detail = segment_image(
            seg, uint8[i], coords[i], labels[i], mask_selection="reject_large", refine=True
        )
        np.testing.assert_array_equal(detail.mask, result.masks[i])
        assert detail.chosen == result.chosen[i]
        mask = segment_with_points(
            seg, uint8[i], coords[i], labels[i], mask_selection="reject_large", refine=True
        )
        np.testing.assert_array_equal(mask, result.masks[i])
    assert seg.encoder_calls == 2


def test_resolve_segmenter(tmp_path) -> None:
    seg = resolve_segmenter("watershed", checkpoint=None, model_type="vit_b", device="cuda")
    assert seg.name == "watershed"
    with pytest.raises(SegmenterError, match="classical back end"):
        resolve_segmenter("flood_fill", checkpoint=tmp_path / "sam.pth")
    with pytest.raises(SegmenterError, match="Known segmenters"):
        resolve_segmenter("segformer")
    with pytest.warns(SegmenterFallbackWarning):
        auto = resolve_segmenter("auto", checkpoint_dir=tmp_path, environ={})
    assert auto.name == "flood_fill"
