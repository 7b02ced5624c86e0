"""Harder variants of the look-alike data: how much a shape stands out from its background
(:class:`ContrastStyle`, apart from ``ShapeStyle`` so the classifier's cache key stays; its
defaults draw no random numbers) and the stress suite's presets (``prepare_data.py --preset``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from common.errors import UserError
from common.lookup import lookup
from shapes.draw import ShapeStyle, StyleError


@dataclass(frozen=True)
class ContrastStyle:
    """How strongly the shape stands out from its background (defaults: as the real data).

    Attributes:
        background_contrast: ``c`` >= 0; each stretched background becomes
            ``mean + c * (bg - mean)`` (its mean colour per channel): 1 as is, 0 flat.
        background_texture: std >= 0, in grey levels, of per-pixel, per-channel Gaussian noise
            added to the stretched background (0: none).
        colour_offset: None draws each shape's colour uniformly (the real data); ``d`` >= 0 draws
            the mean background colour under the shape plus uniform ``[-d, d]`` per channel.
    """

    background_contrast: float = 1.0
    background_texture: float = 0.0
    colour_offset: float | None = None

    def __post_init__(self) -> None:
        for name in ("background_contrast", "background_texture", "colour_offset"):
            value = getattr(self, name)
            if value is None and name == "colour_offset":
                continue
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise StyleError(name, f"must be a finite number >= 0, got {value!r}")


def adjust_background(
    background: np.ndarray, style: ContrastStyle, rng: np.random.Generator
) -> np.ndarray:
    """Apply ``style``'s contrast scale and texture to a stretched uint8 (H, W, 3) RGB
    ``background``; returns uint8 (H, W, 3). ``rng`` draws H * W * 3 normals when
    ``background_texture > 0``; with the defaults ``background`` is returned as it is."""
    if style.background_contrast == 1.0 and style.background_texture == 0.0:
        return background
    out = background.astype(np.float32)
    mean = out.mean(axis=(0, 1), keepdims=True)
    out = mean + np.float32(style.background_contrast) * (out - mean)
    if style.background_texture > 0.0:
        out += rng.normal(0.0, style.background_texture, size=out.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def near_background_colour(
    background: np.ndarray, mask: np.ndarray, offset: float, rng: np.random.Generator
) -> np.ndarray:
    """A shape colour near the background it covers: uint8 (3,), the mean of
    ``background[mask]`` (uint8 (H, W, 3), bool (H, W) not empty) plus a uniform offset in
    ``[-offset, offset]`` per channel (3 draws of ``rng``), rounded and clipped to 0..255."""
    mean = background[mask].astype(np.float64).mean(axis=0)
    colour = mean + rng.uniform(-offset, offset, size=3)
    return np.clip(np.rint(colour), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class StressPreset:
    """A named dataset of the stress suite: its shapes, its contrast and why it is there."""

    description: str
    style: ShapeStyle = field(default_factory=ShapeStyle)
    contrast: ContrastStyle = field(default_factory=ContrastStyle)


#: The stress suite: each preset moves one property of the real data (``hard``: several)
#: towards the harder end of what the real course data may hold.
STRESS_PRESETS: dict[str, StressPreset] = {
    "translucent": StressPreset(
        "every shape translucent: opacity 0.25-0.6, none opaque",
        style=ShapeStyle(alpha_range=(0.25, 0.6), opaque_prob=0.0),
    ),
    "low_contrast": StressPreset(
        "shape colour within +-40 grey levels per channel of the background it covers",
        contrast=ContrastStyle(colour_offset=40.0),
    ),
    "small": StressPreset(
        "small shapes: 6-12 px across instead of 8-20",
        style=ShapeStyle(size_range=(6.0, 12.0)),
    ),
    "textured": StressPreset(
        "busy backgrounds: contrast x1.5 plus per-pixel noise (std 12 grey levels)",
        contrast=ContrastStyle(background_contrast=1.5, background_texture=12.0),
    ),
    "hard": StressPreset(
        "all at once: translucent (0.3-0.7, none opaque), 6-14 px, textured, colour near "
        "the background (+-60)",
        style=ShapeStyle(size_range=(6.0, 14.0), alpha_range=(0.3, 0.7), opaque_prob=0.0),
        contrast=ContrastStyle(
            background_contrast=1.3, background_texture=10.0, colour_offset=60.0
        ),
    ),
}

#: The ``ShapeStyle`` and ``ContrastStyle`` fields ``prepare_data.py`` exposes as options
#: (``--alpha-range`` sets ``alpha_range`` and so on).
STYLE_OPTIONS = ("size_range", "alpha_range", "opaque_prob")
CONTRAST_OPTIONS = ("background_contrast", "background_texture", "colour_offset")


def resolve_styles(
    preset: str | None = None, **overrides: object
) -> tuple[ShapeStyle, ContrastStyle]:
    """The styles of a stress ``preset`` (a key of :data:`STRESS_PRESETS`; None: the defaults)
    with ``overrides`` (fields of :data:`STYLE_OPTIONS` and :data:`CONTRAST_OPTIONS`; None keeps
    the preset's value, ranges may be lists) applied.

    Raises:
        common.UserError: unknown preset (listing the known ones) or unknown field.
        shapes.draw.StyleError: a value out of range (its ``field`` names it).
    """
    base = lookup(preset, STRESS_PRESETS, "stress preset", error=UserError) if preset else None
    unknown = sorted(set(overrides) - set(STYLE_OPTIONS) - set(CONTRAST_OPTIONS))
    if unknown:
        raise UserError(f"unknown style setting(s) {unknown}")
    given = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    given = {k: v for k, v in given.items() if v is not None}
    style, contrast = (base.style, base.contrast) if base else (ShapeStyle(), ContrastStyle())
    style = replace(style, **{k: v for k, v in given.items() if k in STYLE_OPTIONS})
    contrast = replace(contrast, **{k: v for k, v in given.items() if k in CONTRAST_OPTIONS})
    return style, contrast
