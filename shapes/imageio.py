"""Reading image files as 8-bit RGB without guessing: 16-bit grayscale images (which Pillow's
``convert("RGB")`` clips to white) are scaled; modes of unknown range (``I``, ``F``) refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import PIL.Image

_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}
_UNKNOWN_RANGE_MODES = {"I", "F"}


class ImageFormatError(ValueError):
    """An image whose pixel format cannot be turned into 8-bit RGB without guessing."""


def to_rgb8(img: PIL.Image.Image, path: Path | str) -> PIL.Image.Image:
    """``img`` (an opened image of any Pillow mode, read from ``path``) as an 8-bit RGB image
    (mode ``"RGB"``); 16-bit grayscale values v become round(v / 257) (65535 -> 255).

    Raises:
        ImageFormatError: mode ``I`` (32-bit integers) or ``F`` (floats).
    """
    if img.mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(img, dtype=np.float64)
        gray = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
        return PIL.Image.fromarray(gray).convert("RGB")
    if img.mode in _UNKNOWN_RANGE_MODES:
        raise ImageFormatError(
            f"{path}: pixel mode {img.mode!r} (32-bit integer or float) has no known value range; "
            "save it as an 8-bit or 16-bit PNG"
        )
    return img.convert("RGB")
