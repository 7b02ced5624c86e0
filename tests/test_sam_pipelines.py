"""The pipelines on the real SamPredictor path (a tiny random SAM): coordinate order and pixel
centres through ``ResizeLongestSide``, resizing, mask shapes, background labels, the encoder
count across pipelines, shape checks, mask selection, refinement, and the two approaches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import TINY_SAM_IMG_SIZE
from segment_anything import SamPredictor
from segment_anything.utils.transforms import ResizeLongestSide

from sam_pipelines import (
    BasicSamPipeline,
    ForegroundBackgroundPointsPipeline,
    ForegroundPointsPipeline,
    SamSegmenter,
    SegmenterError,
    make_segmenter,
    segment_image,
    segmenter_name,
)
from sam_pipelines.flood_fill import FloodFillSegmenter
from sam_pipelines.segmenters import SegmenterFallbackWarning
from sam_pipelines.selection import cam_agreement, select_mask
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


def _centre(b: int) -> tuple[np.ndarray, np.ndarray]:
    return np.tile(np.array([[[W // 2, H // 2]]]), (b, 1, 1)), np.ones((b, 1), np.int64)


@pytest.fixture
def spy_and_pipeline(tiny_sam):
    spy = PromptSpy(tiny_sam)
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    return spy, BasicSamPipeline(seg)


# ----------------------------------------------------------------------- the SamPredictor path
def test_call_prompts_the_centre_pixel_in_x_y_order_through_the_resize(spy_and_pipeline) -> None:
    spy, pipeline = spy_and_pipeline
    images = normalize_uint8(_uint8_images(2))
    out = pipeline(images)
    assert out.dtype == torch.bool and out.shape == (2, H, W)
    scale = TINY_SAM_IMG_SIZE / W  # ResizeLongestSide: the long side (W = 64) becomes 128
    for coords, labels in spy.points:  # the pixel's centre, (X, Y)
        np.testing.assert_allclose(coords, [[[(W // 2 + 0.5) * scale, (H // 2 + 0.5) * scale]]])
        np.testing.assert_array_equal(labels, [[1]])
    np.testing.assert_array_equal(pipeline.last_prompts[0], [[[W // 2, H // 2]]] * 2)


@pytest.mark.parametrize("x", [0, 7, 63])
def test_points_land_in_the_middle_of_their_pixel_block_at_sam_resolution(x: int) -> None:
    """At SAM's 1024 input a 48 x 64 image is scaled by 16: pixel X covers input pixels
    16 X .. 16 X + 15, and the pipeline's point must land at 16 X + 8, not on the corner 16 X."""
    sent = np.array([[x + 0.5, 10 + 0.5]])  # what segment_image sends for pixel (x, 10)
    at_1024 = ResizeLongestSide(1024).apply_coords(sent, (H, W))
    np.testing.assert_allclose(at_1024, [[16 * x + 8, 16 * 10 + 8]])
    corner = ResizeLongestSide(1024).apply_coords(np.array([[float(x), 10.0]]), (H, W))
    np.testing.assert_allclose(corner, [[16 * x, 160]])  # the integer point: the block's corner


def test_segment_coordinates_reach_the_model_as_x_y(spy_and_pipeline) -> None:
    spy, pipeline = spy_and_pipeline
    images = normalize_uint8(_uint8_images(1))
    coords = np.array([[[50, 10], [3, 40]]])  # X = 50 exists only as a column of a 48 x 64 image
    labels = np.array([[1, 0]])
    pipeline.segment(images, coords, labels)
    got_coords, got_labels = spy.points[0]
    assert TINY_SAM_IMG_SIZE / W == 2.0
    np.testing.assert_allclose(got_coords, [[[101.0, 21.0], [7.0, 81.0]]])
    np.testing.assert_array_equal(got_labels, [[1, 0]])  # the background label arrives
    np.testing.assert_array_equal(pipeline.last_prompts[1], labels)


def test_image_is_resized_to_the_model_input(spy_and_pipeline) -> None:
    spy, pipeline = spy_and_pipeline
    pipeline.segment(normalize_uint8(_uint8_images(1)), *_centre(1))
    (x,) = spy.encoder_inputs
    assert x.shape == (1, 3, TINY_SAM_IMG_SIZE, TINY_SAM_IMG_SIZE)
    predictor = pipeline.predictor.predictor
    assert predictor.original_size == (H, W)
    assert predictor.input_size == (96, 128)  # 48 x 64 scaled by 2, then padded to 128 x 128
    assert torch.all(x[:, :, 96:, :] == 0) and x[:, :, :96, :].abs().sum() > 0


def test_a_plain_sam_predictor_is_the_template_path(tiny_sam) -> None:
    """The notebook passes segment_anything's own SamPredictor; the package's back end with its
    cache must give the same masks."""
    uint8 = _uint8_images(2, seed=5)
    coords, labels = np.array([[[10, 20]], [[40, 30]]]), np.ones((2, 1), np.int64)
    plain = BasicSamPipeline(SamPredictor(tiny_sam))
    cached = BasicSamPipeline(SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu"))
    a = plain.segment(normalize_uint8(uint8), coords, labels)
    b = cached.segment(normalize_uint8(uint8), coords, labels)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert plain.segmenter_name == cached.segmenter_name == "sam"
    assert segmenter_name(FloodFillSegmenter()) == "flood_fill"


def test_segment_returns_the_highest_scoring_mask_at_input_size(tiny_sam) -> None:
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    pipeline = BasicSamPipeline(seg)
    uint8 = _uint8_images(3, seed=1)
    coords, labels = _centre(3)
    results = pipeline.segment_uint8(uint8, coords, labels)
    for i, r in enumerate(results):
        assert r.mask.shape == (H, W) and r.mask.dtype == bool
        assert r.candidates.shape == (3, H, W) and r.scores.shape == (3,)
        assert r.chosen == r.scores.argmax()
        np.testing.assert_array_equal(r.mask, r.candidates[r.chosen])
        seg.set_image(uint8[i])
        masks, scores, _ = seg.predict(coords[i] + 0.5, labels[i])
        np.testing.assert_array_equal(r.mask, masks[np.argmax(scores)])
    via_tensor = pipeline.segment(normalize_uint8(uint8), coords, labels)
    np.testing.assert_array_equal(via_tensor.numpy(), np.stack([r.mask for r in results]))


def test_encoder_runs_once_per_distinct_image_across_prompts_and_pipelines(tiny_sam) -> None:
    spy = PromptSpy(tiny_sam)
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    pipelines = [
        BasicSamPipeline(seg),
        BasicSamPipeline(seg, mask_selection="reject_large", refine=True),
    ]
    uint8 = _uint8_images(4, seed=2)
    rng = np.random.default_rng(0)
    prompts = [  # three "strategies": different prompts for the same images
        _centre(4),
        (rng.integers(0, [W, H], (4, 2, 2)), np.tile([[1, 0]], (4, 1))),
        (rng.integers(0, [W, H], (4, 3, 2)), np.ones((4, 3), np.int64)),
    ]
    for pipeline in pipelines:
        for coords, labels in prompts:
            pipeline.segment_uint8(uint8, coords, labels)
    pipelines[0](normalize_uint8(uint8[:2]))  # the tensor path: same content, same cache
    assert len(spy.encoder_inputs) == seg.encoder_calls == 4


# ----------------------------------------------------------------------------- shape checks
@pytest.mark.parametrize(
    ("coords", "labels", "match"),
    [
        (np.zeros((2, 1, 3), np.int64), np.ones((2, 1), np.int64), r"\(N, 2\) or \(B, N, 2\)"),
        (np.zeros((2, 1, 2), np.int64), np.ones((3, 1), np.int64), "labels shape"),
        (np.zeros((1, 1, 2), np.int64), np.ones((1, 1), np.int64), r"\(B=2, N, 2\)"),
        (np.zeros((2, 1, 2), np.int64), np.ones((2, 2), np.int64), "labels shape"),
        (np.full((2, 1, 2), 0.5), np.ones((2, 1), np.int64), "integers"),
        (np.zeros((2, 1, 2), np.int64), np.full((2, 1), 2), "0 or 1"),
        (np.full((2, 1, 2), [10, 60]), np.ones((2, 1), np.int64), r"outside the 48x64"),
    ],
)
def test_segment_shape_checks(coords, labels, match) -> None:
    pipeline = BasicSamPipeline(FloodFillSegmenter())
    with pytest.raises(ValueError, match=match):
        pipeline.segment(normalize_uint8(_uint8_images(2)), coords, labels)


def test_image_and_predictor_checks() -> None:
    pipeline = BasicSamPipeline(FloodFillSegmenter())
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        pipeline.segment(torch.zeros(3, H, W), *_centre(1))
    with pytest.raises(ValueError, match="uint8"):
        pipeline.segment_uint8(np.zeros((1, H, W, 3)), *_centre(1))
    with pytest.raises(TypeError, match="set_image"):
        BasicSamPipeline("flood_fill")
    with pytest.raises(ValueError, match="grad_cam"):
        ForegroundPointsPipeline(FloodFillSegmenter())(normalize_uint8(_uint8_images(1)))


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
    pipeline = BasicSamPipeline(FloodFillSegmenter(), mask_selection="cam")
    images = normalize_uint8(_uint8_images(1))
    with pytest.raises(ValueError, match="needs the CAMs"):
        pipeline(images)
    with pytest.raises(ValueError, match="mask_selection"):
        BasicSamPipeline(FloodFillSegmenter(), mask_selection="largest")


def test_refine_feeds_the_chosen_low_res_logits_back(tiny_sam) -> None:
    spy = PromptSpy(tiny_sam)
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    pipeline = BasicSamPipeline(seg, refine=True)
    uint8 = _uint8_images(1)
    (result,) = pipeline.segment_uint8(uint8, *_centre(1))
    assert spy.mask_inputs[0] is None
    fed = spy.mask_inputs[1]
    low_res = TINY_SAM_IMG_SIZE // 4
    assert fed is not None and tuple(fed.shape) == (1, 1, low_res, low_res)
    seg.set_image(uint8[0])
    _, _, logits = seg.predict(np.array([[W // 2 + 0.5, H // 2 + 0.5]]), np.array([1]))
    np.testing.assert_allclose(fed[0].numpy(), logits[result.chosen][None], rtol=1e-6)
    assert pipeline.settings()["refine"] is True


# --------------------------------------------------------------------------------- the approaches
class StandInCAM:
    """A CAM with ``GradCAM``'s interface: a bump at (X=40, Y=20) for every image."""

    def __call__(self, images, targets=None) -> np.ndarray:
        b, _, h, w = images.shape
        yy, xx = np.mgrid[:h, :w]
        bump = np.exp(-((xx - 40) ** 2 + (yy - 20) ** 2) / 50.0).astype(np.float32)
        return np.repeat(bump[None], b, axis=0)


def _two_squares(b: int) -> np.ndarray:
    """Grey images with a red square around (40, 20) (where the CAM is) and a blue one at the
    left; the approaches must prompt the red one."""
    img = np.full((b, H, W, 3), 120, np.uint8)
    img[:, 14:27, 34:47] = (220, 30, 30)
    img[:, 30:40, 5:15] = (30, 30, 220)
    return img


def test_approaches_prompt_the_segment_under_the_heat_map(tiny_sam) -> None:
    spy = PromptSpy(tiny_sam)
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    images = normalize_uint8(_two_squares(2))
    fg = ForegroundPointsPipeline(seg, StandInCAM())
    out = fg(images)
    assert out.shape == (2, H, W) and out.dtype == torch.bool
    coords, labels = fg.last_prompts
    np.testing.assert_array_equal(coords, [[[40, 20]], [[40, 20]]])  # the red square's centre
    np.testing.assert_array_equal(labels, [[1], [1]])
    assert fg.last_cams.shape == (2, H, W)

    fg_bg = ForegroundBackgroundPointsPipeline(seg, StandInCAM())
    fg_bg(images)
    coords, labels = fg_bg.last_prompts
    np.testing.assert_array_equal(labels, [[1, 0], [1, 0]])
    np.testing.assert_array_equal(coords[:, 0], [[40, 20], [40, 20]])
    red = np.zeros((H, W), bool)
    red[14:27, 34:47] = True
    blue = np.zeros((H, W), bool)
    blue[30:40, 5:15] = True
    for x, y in coords[:, 1]:  # the background point is on neither square
        assert not red[y, x] and not blue[y, x]
    sent, sent_labels = spy.points[-1]
    np.testing.assert_array_equal(sent_labels, [[1, 0]])
    np.testing.assert_allclose(sent[0, 0], [81.0, 41.0])  # (40.5, 20.5) scaled by 2


def test_fg_pipeline_with_the_real_gradcam() -> None:
    from cam import GradCAM
    from classifier import build_classifier

    torch.manual_seed(0)
    model = build_classifier(imagenet_weights=False).eval()
    pipeline = ForegroundPointsPipeline(
        FloodFillSegmenter(), GradCAM(model, [model.layer2[-1]]), mask_selection="cam"
    )
    out = pipeline(normalize_uint8(_two_squares(2)))
    assert out.shape == (2, H, W) and out.dtype == torch.bool
    assert pipeline.last_cams.shape == (2, H, W) and np.all(pipeline.last_prompts[1] == 1)
    assert pipeline.settings()["segmenter"] == "flood_fill"
    assert pipeline.settings()["heat_map"] == "GradCAM"
    assert pipeline.settings()["heat_offset"] == [0.0, 0.0]
    assert BasicSamPipeline(FloodFillSegmenter()).settings()["heat_map"] is None
    assert BasicSamPipeline(FloodFillSegmenter()).settings()["heat_offset"] is None
    moved = ForegroundPointsPipeline(
        FloodFillSegmenter(), GradCAM(model, [model.layer2[-1]], offset=(2.5, -1))
    )
    assert moved.settings()["heat_offset"] == [2.5, -1.0]


# ------------------------------------------------------------- the comparison's entry point
def test_segment_image_matches_the_pipeline(tiny_sam) -> None:
    seg = SamSegmenter(model=tiny_sam, model_id="tiny", device="cpu")
    uint8 = _uint8_images(2, seed=4)
    coords = np.array([[[5, 5], [60, 40]], [[30, 20], [1, 47]]])
    labels = np.array([[1, 0], [1, 1]])
    pipeline = BasicSamPipeline(seg, mask_selection="reject_large", refine=True)
    results = pipeline.segment_uint8(uint8, coords, labels)
    for i in range(2):
        detail = segment_image(
            seg, uint8[i], coords[i], labels[i], mask_selection="reject_large", refine=True
        )
        np.testing.assert_array_equal(detail.mask, results[i].mask)
        assert detail.chosen == results[i].chosen
    assert seg.encoder_calls == 2


def test_make_segmenter(tmp_path) -> None:
    seg = make_segmenter("watershed", checkpoint=None, model_type="vit_b", device="cuda")
    assert seg.name == "watershed"
    with pytest.raises(SegmenterError, match="classical back end"):
        make_segmenter("flood_fill", checkpoint=tmp_path / "sam.pth")
    with pytest.raises(SegmenterError, match="Known segmenters"):
        make_segmenter("segformer")
    with pytest.warns(SegmenterFallbackWarning, match="downloading is off"):
        auto = make_segmenter("auto", checkpoint_dir=tmp_path, environ={}, download=False)
    assert auto.name == "flood_fill"
