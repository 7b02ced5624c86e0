"""The batched SAM image encoder against SamPredictor's one-image path (tiny random SAM): equal
embeddings in float32, and within a stated tolerance under bfloat16 autocast (with SAM's
attention and with the SDPA one), on the embeddings, the low-resolution mask logits and the
selected masks; the SDPA attention against SAM's own, relative positions included."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from segment_anything import SamPredictor

from sam_pipelines.batched_encoder import encode_images, sam_inputs
from sam_pipelines.sdpa_attention import rel_pos_table, sdpa_attention

H, W = 48, 64


def _images(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, H, W, 3), dtype=np.uint8)
    images[:, 10:30, 20:40] = (230, 40, 40)  # a flat square, so masks have structure
    return images


def _one_by_one(predictor: SamPredictor, images: np.ndarray) -> torch.Tensor:
    features = []
    for image in images:
        predictor.set_image(image)
        features.append(predictor.features)
    return torch.cat(features)


def _restore(predictor: SamPredictor, features: torch.Tensor, input_size) -> None:
    predictor.reset_image()
    predictor.features = features[None]
    predictor.input_size = input_size
    predictor.original_size = (H, W)
    predictor.is_image_set = True


def test_inputs_match_set_image(tiny_sam) -> None:
    predictor = SamPredictor(tiny_sam)
    images = _images(3)
    x, input_size = sam_inputs(tiny_sam, images)
    predictor.set_image(images[1])
    assert input_size == predictor.input_size
    prepared = tiny_sam.preprocess(
        torch.as_tensor(predictor.transform.apply_image(images[1])).permute(2, 0, 1)[None].float()
    )
    torch.testing.assert_close(x[1:2], prepared)


@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_float32_batches_equal_the_one_image_path(tiny_sam, batch_size: int) -> None:
    images = _images(5)
    reference = _one_by_one(SamPredictor(tiny_sam), images)
    batched, _ = encode_images(tiny_sam, images, batch_size=batch_size)
    torch.testing.assert_close(batched, reference, rtol=1e-5, atol=1e-5)


def _with_rel_pos(module: torch.nn.Module, seed: int = 0) -> None:
    """Non-zero relative positions (SAM initialises them to zero), so the tests see them."""
    generator = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if getattr(m, "use_rel_pos", False):
            with torch.no_grad():
                m.rel_pos_h.copy_(torch.randn(m.rel_pos_h.shape, generator=generator) * 0.5)
                m.rel_pos_w.copy_(torch.randn(m.rel_pos_w.shape, generator=generator) * 0.5)


@pytest.mark.parametrize("size", [(14, 14), (8, 12)])
@pytest.mark.parametrize("rel_pos", [True, False])
def test_sdpa_attention_equals_sam_attention(size: tuple[int, int], rel_pos: bool) -> None:
    """ViT-B's head dim (64) on a window (14 x 14) and on a grid that is not square."""
    from segment_anything.modeling.image_encoder import Attention

    torch.manual_seed(0)
    attention = Attention(128, num_heads=2, use_rel_pos=rel_pos, input_size=size).eval()
    _with_rel_pos(attention)
    x = torch.randn(3, *size, 128)
    with torch.no_grad():
        expected = attention(x)
        with sdpa_attention(attention) as switched:
            got = attention(x)
        assert switched == 1
        torch.testing.assert_close(attention(x), expected, rtol=0, atol=0)  # its own again
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rows", [27, 10])  # SAM's table size, and one SAM interpolates
def test_rel_pos_table_equals_get_rel_pos(rows: int) -> None:
    from segment_anything.modeling.image_encoder import get_rel_pos

    table = torch.randn(rows, 8)
    torch.testing.assert_close(rel_pos_table(14, table), get_rel_pos(14, 14, table))


def test_sdpa_encoder_equals_the_plain_one_in_float32(tiny_sam) -> None:
    _with_rel_pos(tiny_sam.image_encoder)
    images = _images(3)
    plain, _ = encode_images(tiny_sam, images, batch_size=3)
    fused, _ = encode_images(tiny_sam, images, batch_size=3, sdpa=True)
    torch.testing.assert_close(fused, plain, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(encode_images(tiny_sam, images)[0], plain, rtol=0, atol=0)


@pytest.mark.parametrize("sdpa", [False, True])
def test_bfloat16_autocast_stays_within_tolerance(tiny_sam, sdpa: bool) -> None:
    """Tolerance: embeddings within 3 % of their scale; low-resolution logits within 5 % of
    theirs; at least 98 % of the selected masks' pixels agree with float32 (also with the SDPA
    attention, the comparison's encoder on CUDA)."""
    _with_rel_pos(tiny_sam.image_encoder)
    images = _images(4, seed=1)
    ref, input_size = encode_images(tiny_sam, images)
    half, _ = encode_images(tiny_sam, images, 4, autocast_dtype=torch.bfloat16, sdpa=sdpa)
    assert half.dtype == torch.float32
    scale = ref.abs().max()
    assert (half - ref).abs().max() <= 0.03 * scale
    predictor = SamPredictor(tiny_sam)
    point, label = np.array([[30.5, 20.5]]), np.array([1])
    agree = []
    for i in range(len(images)):
        _restore(predictor, ref[i], input_size)
        masks_ref, scores_ref, logits_ref = predictor.predict(point, label)
        _restore(predictor, half[i], input_size)
        masks_half, _, logits_half = predictor.predict(point, label)
        assert np.abs(logits_half - logits_ref).max() <= 0.05 * np.abs(logits_ref).max()
        k = int(np.argmax(scores_ref))
        agree.append((masks_half[k] == masks_ref[k]).mean())
    assert min(agree) >= 0.98


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="uint8"):
        sam_inputs(None, np.zeros((2, H, W, 3), np.float32))
