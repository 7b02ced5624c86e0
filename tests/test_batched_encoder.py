"""The batched SAM image encoder against SamPredictor's one-image path (tiny random SAM): equal
embeddings in float32, and within a stated tolerance under bfloat16 autocast, on the embeddings,
the low-resolution mask logits and the selected masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from segment_anything import SamPredictor

from sam_pipelines.batched_encoder import encode_images, sam_inputs

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


def test_bfloat16_autocast_stays_within_tolerance(tiny_sam) -> None:
    """Tolerance: embeddings within 3 % of their scale; low-resolution logits within 5 % of
    theirs; at least 98 % of the selected masks' pixels agree with float32."""
    images = _images(4, seed=1)
    ref, input_size = encode_images(tiny_sam, images)
    half, _ = encode_images(tiny_sam, images, batch_size=4, autocast_dtype=torch.bfloat16)
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
