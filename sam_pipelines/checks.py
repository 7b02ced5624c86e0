"""Input checks shared by the segmenter back ends, with errors that name the bad input."""

from __future__ import annotations

import numpy as np


class SegmenterError(ValueError):
    """Bad segmenter name, setting or input; the message names the segmenter."""


def check_image(
    image: np.ndarray, image_format: str = "RGB", where: str = "set_image"
) -> np.ndarray:
    """Validate one uint8 (H, W, 3) image whose channels are in ``image_format`` order (``"RGB"``
    or ``"BGR"``) and return it as contiguous uint8 RGB; ``where`` names the caller in errors."""
    if image_format not in ("RGB", "BGR"):
        raise ValueError(f"{where}: image_format must be 'RGB' or 'BGR', got {image_format!r}")
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"{where}: image must be uint8 (H, W, 3), got {image.dtype} of shape {image.shape}"
        )
    if image_format == "BGR":
        image = image[..., ::-1]
    return np.ascontiguousarray(image)


def check_point_prompts(
    point_coords: np.ndarray | None,
    point_labels: np.ndarray | None,
    hw: tuple[int, int],
    where: str = "predict",
) -> tuple[np.ndarray, np.ndarray]:
    """Validate one image's point prompts and return coords float64 (N, 2) and labels int64
    (N,): (N, 2) numbers, each point (X, Y) = (column, row) in continuous pixel coordinates
    inside the ``hw`` (H, W) image (0 <= X < W, 0 <= Y < H; pixel (c, r) spans [c, c + 1) x
    [r, r + 1), its centre is (c + 0.5, r + 0.5)), and (N,) labels 1 = foreground, 0 =
    background (-1 = padding, ignored). ``where`` names the caller in errors."""
    if point_coords is None or point_labels is None:
        raise ValueError(f"{where}: point_coords and point_labels are both required")
    coords = np.asarray(point_coords)
    labels = np.asarray(point_labels)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"{where}: point_coords must be (N, 2) (X, Y) pairs, got {coords.shape}")
    if labels.shape != (coords.shape[0],):
        raise ValueError(
            f"{where}: point_labels must have shape ({coords.shape[0]},) to match point_coords, "
            f"got {labels.shape}"
        )
    if not np.issubdtype(coords.dtype, np.number) or not np.isfinite(coords).all():
        raise ValueError(f"{where}: point_coords must be finite numbers, got {coords.dtype}")
    if labels.size and not np.isin(labels, (-1, 0, 1)).all():
        raise ValueError(f"{where}: point_labels must be 1 (fg), 0 (bg) or -1, got {labels}")
    h, w = hw
    outside = (coords[:, 0] < 0) | (coords[:, 0] >= w) | (coords[:, 1] < 0) | (coords[:, 1] >= h)
    if outside.any():
        bad = coords[np.argmax(outside)].tolist()
        raise ValueError(
            f"{where}: point {bad} lies outside the {h}x{w} (H x W) image; points are (X, Y) "
            f"with 0 <= X < {w} and 0 <= Y < {h} (is the order (row, col) by mistake?)"
        )
    return coords.astype(np.float64), labels.astype(np.int64)
