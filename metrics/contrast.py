"""How strongly a shape stands out from its surroundings, from the image and its mask alone.

Contrast: the Euclidean distance in RGB grey levels (0..441.7) between the mean colour of the
shape's pixels and that of its outer ring, the pixels outside the mask within ``ring`` pixels
(chessboard distance, 2 by default) inside the image. A flat shape on a flat background scores
the distance between the two colours, a translucent one its opacity times that. NaN when the
mask is empty or covers the whole image (no ring).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Width in pixels of the ring around the shape that the contrast compares it with.
RING_PX = 2


def outer_ring(mask: np.ndarray, ring: int = RING_PX) -> np.ndarray:
    """bool (H, W): pixels outside ``mask`` (bool (H, W)) within ``ring`` px of it (8-connected)."""
    if ring < 1:
        raise ValueError(f"ring must be >= 1 pixel, got {ring}")
    grown = ndimage.binary_dilation(mask, structure=np.ones((3, 3), bool), iterations=ring)
    return grown & ~mask


def shape_contrast(image: np.ndarray, mask: np.ndarray, ring: int = RING_PX) -> float:
    """Contrast (see the module docstring) of the shape bool ``mask`` (H, W) in the RGB
    ``image`` (H, W, 3), uint8 or real in 0..255, against a ``ring`` pixels wide ring: the RGB
    distance in grey levels (float), NaN for an empty mask or one without a ring."""
    image = np.asarray(image)
    mask = np.asarray(mask, dtype=bool)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[:2] != mask.shape:
        raise ValueError(
            f"expected an RGB image (H, W, 3) and a mask (H, W), got {image.shape} and {mask.shape}"
        )
    around = outer_ring(mask, ring)
    if not mask.any() or not around.any():
        return float("nan")
    pixels = image.astype(np.float64)
    inside, outside = pixels[mask].mean(axis=0), pixels[around].mean(axis=0)
    return float(np.linalg.norm(inside - outside))


def shape_contrasts(images: np.ndarray, masks: np.ndarray, ring: int = RING_PX) -> np.ndarray:
    """float64 (N,): :func:`shape_contrast` of each image uint8 (N, H, W, 3) with its mask bool
    (N, H, W)."""
    if len(images) != len(masks):
        raise ValueError(f"{len(images)} images but {len(masks)} masks")
    return np.array(
        [shape_contrast(im, m, ring) for im, m in zip(images, masks, strict=True)], dtype=np.float64
    )
