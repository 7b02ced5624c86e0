"""A handful of hard images, built deterministically, for regression tests of point strategies.

Each :class:`HardCase` is one 48 x 64 image with one shape of the kind the look-alike generator
rarely draws but the real course data may hold (translucent over texture, small and close to the
background's colour, cut by the border), its mask, and a stand-in heat map: what a layer2
Grad-CAM roughly looks like (the mask blurred, shifted a little off the shape, averaged onto
the 6 x 8 grid of layer2's activations and stretched back bilinearly). A test asks a strategy
for its point on ``case.cam`` and ``case.image`` and checks that it lands inside ``case.mask``.

Nothing here draws from a global random state: the same call returns the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import PIL.Image
from scipy import ndimage

from shapes.classes import CLASSES, IMAGE_SIZE
from shapes.draw import paste, shape_mask

#: layer2's activation grid on a 48 x 64 image (rows, columns).
CAM_GRID = (6, 8)


@dataclass(frozen=True)
class HardCase:
    """One hard image.

    Attributes:
        name: what makes it hard, e.g. ``"translucent_star_on_texture"``.
        image: uint8 (H, W, 3) RGB.
        mask: bool (H, W), the shape.
        label: class index into ``CLASSES``.
        alpha: the shape's opacity (1 = opaque).
        cam: float32 (H, W) in 0..1, the stand-in heat map (see the module docstring).
    """

    name: str
    image: np.ndarray
    mask: np.ndarray
    label: int
    alpha: float
    cam: np.ndarray


def stand_in_cam(
    mask: np.ndarray, shift: tuple[float, float] = (2.0, 1.0), sigma: float = 3.0
) -> np.ndarray:
    """A coarse heat map around ``mask`` (bool (H, W)): Gaussian blur (``sigma`` px), shifted by
    ``shift`` = (dx, dy) px, averaged onto :data:`CAM_GRID`, stretched back bilinearly and
    rescaled to 0..1. Returns float32 (H, W)."""
    h, w = mask.shape
    heat = ndimage.gaussian_filter(mask.astype(np.float64), sigma)
    heat = ndimage.shift(heat, (shift[1], shift[0]), order=1, mode="constant")
    gh, gw = CAM_GRID
    coarse = heat.reshape(gh, h // gh, gw, w // gw).mean(axis=(1, 3)).astype(np.float32)
    up = np.asarray(PIL.Image.fromarray(coarse, mode="F").resize((w, h), PIL.Image.BILINEAR))
    up = up - up.min()
    return (up / up.max() if up.max() > 0 else up).astype(np.float32)


def smooth_background(rng: np.random.Generator, hw: tuple[int, int] = IMAGE_SIZE) -> np.ndarray:
    """uint8 (H, W, 3): random colours on a 4 x 4 grid stretched bilinearly (like a blurry
    stretched CIFAR image)."""
    h, w = hw
    grid = rng.integers(30, 226, size=(4, 4, 3)).astype(np.uint8)
    return np.asarray(PIL.Image.fromarray(grid).resize((w, h), PIL.Image.BILINEAR))


def textured_background(
    rng: np.random.Generator, noise: float = 22.0, hw: tuple[int, int] = IMAGE_SIZE
) -> np.ndarray:
    """uint8 (H, W, 3): :func:`smooth_background` plus per-pixel Gaussian noise (std ``noise``
    grey levels) and faint diagonal stripes (period 4 px), so a translucent shape is not flat."""
    h, w = hw
    base = smooth_background(rng, hw).astype(np.float64)
    yy, xx = np.mgrid[0:h, 0:w]
    stripes = 25.0 * np.sin(2 * np.pi * (xx + yy) / 4.0)[..., None]
    out = base + stripes + rng.normal(0.0, noise, size=(h, w, 3))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _case(
    name: str,
    background: np.ndarray,
    shape: str,
    size: float,
    centre: tuple[float, float],
    alpha: float,
    colour: np.ndarray | None = None,
    colour_offset: tuple[int, int, int] = (0, 0, 0),
    cam_shift: tuple[float, float] = (2.0, 1.0),
) -> HardCase:
    """Paste ``shape`` (``size`` px, centre (x, y)) with ``colour``, or with the background's
    mean colour under it plus ``colour_offset`` when ``colour`` is None."""
    mask = shape_mask(shape, size, centre[0], centre[1], background.shape[:2])
    if colour is None:
        mean = background[mask].astype(np.float64).mean(axis=0)
        colour = np.clip(np.rint(mean + np.array(colour_offset)), 0, 255).astype(np.uint8)
    image = paste(background, mask, colour, alpha)
    return HardCase(
        name, image, mask, CLASSES.index(shape), alpha, stand_in_cam(mask, shift=cam_shift)
    )


#: The regression set: name, textured (1) or smooth (0) background, background seed, shape,
#: size (px), centre (x, y), opacity, colour (RGB), stand-in CAM shift (x, y; None: the
#: default of ``_case``).
_CASES = (
    ("translucent_star_on_texture", 1, 101, "star", 16, (30, 22), 0.35, (230, 40, 40), None),
    ("small_low_contrast_diamond", 0, 102, "diamond", 7, (44, 30), 0.8, None, (-2, -2)),
    ("translucent_triangle_on_texture", 1, 103, "triangle", 14, (20, 16), 0.4, (40, 60, 235), None),
    ("faint_circle_at_border", 0, 104, "circle", 12, (2, 28), 0.3, (250, 250, 60), (3, 0)),
    ("small_translucent_star", 1, 105, "star", 9, (50, 12), 0.45, (30, 220, 90), (-1, 2)),
    ("translucent_diamond_beside_its_heat", 0, 334, "diamond", 13, (29, 11), 0.5, None, (4, 2)),
    ("translucent_triangle_beside_its_heat", 0, 202, "triangle", 10, (25, 21), 0.35, None, (5, 1)),
)
#: Cases whose colour is the background's mean under the shape plus this offset.
_COLOUR_OFFSETS = {
    "small_low_contrast_diamond": (14, -10, 8),
    "translucent_diamond_beside_its_heat": (-8, 9, -36),
    "translucent_triangle_beside_its_heat": (-7, -30, 38),
}


def hard_cases() -> list[HardCase]:
    """The regression set, always the same arrays (fixed seeds), in this order:

    - ``translucent_star_on_texture``: a 16 px star at opacity 0.35 over a noisy, striped
      background;
    - ``small_low_contrast_diamond``: a 7 px diamond, opacity 0.8, within about 20 grey levels
      of the smooth background under it;
    - ``translucent_triangle_on_texture``: a 14 px triangle at opacity 0.4 over texture;
    - ``faint_circle_at_border``: a 12 px circle at opacity 0.3, a third of it cut by the left
      border;
    - ``small_translucent_star``: a 9 px star at opacity 0.45 over texture;
    - ``translucent_diamond_beside_its_heat``: a 13 px diamond at opacity 0.5, its colour near
      the smooth background's, the heat map's peak 4 px right and 2 px down of it;
    - ``translucent_triangle_beside_its_heat``: a 10 px triangle at opacity 0.35, likewise,
      the heat 5 px right. Beside both, the heat falls on background patches cut out along the
      background's own gradients; only the outline's sharpness tells the shape from them.
    """
    cases = []
    for name, textured, seed, shape, size, centre, alpha, colour, cam_shift in _CASES:
        draw = textured_background if textured else smooth_background
        background = draw(np.random.default_rng(seed))
        if name in _COLOUR_OFFSETS:  # a colour near the background's under the shape
            kwargs = {"colour_offset": _COLOUR_OFFSETS[name]}
        else:
            kwargs = {"colour": np.array(colour, np.uint8)}
        if cam_shift is not None:
            kwargs["cam_shift"] = cam_shift
        cases.append(_case(name, background, shape, size, centre, alpha, **kwargs))
    return cases
