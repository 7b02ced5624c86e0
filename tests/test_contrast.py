"""metrics.contrast on hand-made images."""

from __future__ import annotations

import numpy as np
import pytest

from metrics import outer_ring, shape_contrast, shape_contrasts


def square_mask(hw=(12, 16), top=4, left=5, side=4) -> np.ndarray:
    mask = np.zeros(hw, bool)
    mask[top : top + side, left : left + side] = True
    return mask


def test_outer_ring_is_two_pixels_wide_and_clipped() -> None:
    mask = square_mask()
    ring = outer_ring(mask)
    assert not (ring & mask).any()
    assert ring.sum() == 8 * 8 - 4 * 4  # the 4 x 4 square grown by 2 on every side
    corner = np.zeros((5, 5), bool)
    corner[0, 0] = True
    assert outer_ring(corner).sum() == 3 * 3 - 1  # clipped by the border
    with pytest.raises(ValueError, match="ring"):
        outer_ring(mask, 0)


def test_flat_shape_on_flat_background_is_the_colour_distance() -> None:
    mask = square_mask()
    image = np.zeros((*mask.shape, 3), np.uint8)
    image[...] = (10, 20, 30)
    image[mask] = (13, 24, 30)
    assert shape_contrast(image, mask) == pytest.approx(5.0)


def test_only_the_two_pixel_ring_counts() -> None:
    mask = square_mask()
    image = np.zeros((*mask.shape, 3), np.uint8)
    image[mask] = (100, 100, 100)
    far = ~(mask | outer_ring(mask))
    image[far] = (255, 0, 0)  # beyond the ring: ignored
    assert shape_contrast(image, mask) == pytest.approx(np.sqrt(3) * 100)


def test_translucent_shape_scores_its_opacity_times_the_distance() -> None:
    mask = square_mask()
    background, colour, alpha = np.array([40.0, 80, 120]), np.array([240.0, 80, 20]), 0.4
    image = np.zeros((*mask.shape, 3))
    image[...] = background
    image[mask] = (1 - alpha) * background + alpha * colour
    expected = alpha * np.linalg.norm(colour - background)
    assert shape_contrast(np.rint(image).astype(np.uint8), mask) == pytest.approx(expected, abs=1)


def test_textured_background_is_averaged() -> None:
    mask = square_mask()
    image = np.zeros((*mask.shape, 3), np.uint8)
    image[::2] = 100  # stripes around the shape: mean 50 in the ring, rows alternate
    image[1::2] = 0
    image[mask] = 50
    ring = outer_ring(mask)
    ring_mean = image[ring].astype(float).mean(axis=0)
    assert shape_contrast(image, mask) == pytest.approx(np.linalg.norm(50 - ring_mean))


def test_empty_or_full_mask_is_nan_and_bad_shapes_are_refused() -> None:
    image = np.zeros((6, 6, 3), np.uint8)
    assert np.isnan(shape_contrast(image, np.zeros((6, 6), bool)))
    assert np.isnan(shape_contrast(image, np.ones((6, 6), bool)))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        shape_contrast(image[..., 0], np.zeros((6, 6), bool))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        shape_contrast(image, np.zeros((5, 6), bool))


def test_batch_matches_single_images() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 12, 16, 3), dtype=np.uint8)
    masks = np.stack([square_mask(), square_mask(top=0, left=0), np.zeros((12, 16), bool)])
    out = shape_contrasts(images, masks)
    assert out.dtype == np.float64 and out.shape == (3,)
    assert out[0] == shape_contrast(images[0], masks[0]) and np.isnan(out[2])
    with pytest.raises(ValueError, match="2 masks"):
        shape_contrasts(images, masks[:2])
