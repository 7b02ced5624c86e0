"""The from-scratch recipe's schedules and its stream of training batches: opaque, large shapes
first, then the real distribution, drawn fresh (TRAIN-pool backgrounds) and mixed with the
fixed train split.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import fields, replace

import numpy as np

from classifier.config import TrainConfig
from shapes.draw import ShapeStyle
from shapes.generate import render


def difficulty(step: int, config: TrainConfig) -> float:
    """Share of the real distribution at ``step`` (0-based): 0 during the easy phase, then a
    linear ramp over ``anneal_steps`` to 1."""
    if step < config.easy_steps:
        return 0.0
    if config.anneal_steps <= 0:
        return 1.0
    return min(1.0, (step - config.easy_steps + 1) / config.anneal_steps)


def learning_rate(step: int, config: TrainConfig) -> float:
    """Learning rate at ``step`` (0-based): linear warm-up, constant, cosine decay to 0."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    start = max(int(config.decay_start * config.steps), config.warmup_steps)
    if step < start:
        return config.lr
    span = max(config.steps - start, 1)
    return 0.5 * config.lr * (1.0 + math.cos(math.pi * min(step - start, span) / span))


def interpolate_style(easy: ShapeStyle, real: ShapeStyle, t: float) -> ShapeStyle:
    """The style a fraction ``t`` in [0, 1] of the way from ``easy`` to ``real`` (field-wise)."""

    def lerp(a, b):  # floats or (lo, hi) tuples
        if isinstance(a, tuple):
            return tuple((1.0 - t) * x + t * y for x, y in zip(a, b, strict=True))
        return (1.0 - t) * a + t * b

    return replace(
        easy,
        **{f.name: lerp(getattr(easy, f.name), getattr(real, f.name)) for f in fields(ShapeStyle)},
    )


def draw_batch(
    step: int,
    config: TrainConfig,
    pool: np.ndarray,
    hw: tuple[int, int],
    fixed_images: np.ndarray | None,
    fixed_labels: np.ndarray | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One batch for 0-based ``step``: uint8 images (B, H, W, 3) (B = ``config.batch_size``,
    random order), int64 labels (B,) and :func:`difficulty`, drawn with ``rng`` on uint8
    TRAIN-pool backgrounds ``pool`` (N, h, w, 3) at size ``hw`` = (H, W), mixed with the fixed
    train split (uint8 ``fixed_images`` (M, H, W, 3), int64 ``fixed_labels`` (M,); None: fresh
    images only)."""
    n = config.batch_size
    d = difficulty(step, config)
    real = config.real_style if config.real_style is not None else ShapeStyle()
    parts_x, parts_y = [], []
    if config.curriculum == "interp":
        n_real, style_easy = n, interpolate_style(config.easy_style, real, d)
    else:
        n_real, style_easy = round(d * n), config.easy_style
    use_fixed = fixed_images is not None and len(fixed_images) > 0
    n_fixed = round(config.fixed_fraction * d * n) if use_fixed else 0
    n_fresh_real = n_real - n_fixed if config.curriculum == "mix" else 0
    n_easy = n - n_fixed - n_fresh_real
    parts = ((n_easy, style_easy, None), (n_fresh_real, real, config.real_contrast))
    for count, style, contrast in parts:
        if count:
            drawn = render(pool, count, rng, style, hw, contrast=contrast)
            parts_x.append(drawn.images)
            parts_y.append(drawn.labels)
    if n_fixed:
        assert fixed_images is not None and fixed_labels is not None
        idx = rng.integers(0, len(fixed_images), size=n_fixed)
        x = fixed_images[idx].copy()
        flip = rng.random(n_fixed) < 0.5
        x[flip] = x[flip, :, ::-1]
        parts_x.append(x)
        parts_y.append(fixed_labels[idx])
    images = np.concatenate(parts_x)
    labels = np.concatenate(parts_y).astype(np.int64)
    order = rng.permutation(n)
    return images[order], labels[order], d


def batch_stream(
    config: TrainConfig,
    pool: np.ndarray,
    hw: tuple[int, int],
    fixed_images: np.ndarray | None,
    fixed_labels: np.ndarray | None,
) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
    """Yield the batches of steps 0 .. ``config.steps - 1`` in order, drawn from one generator
    seeded by ``config.seed`` (so deterministically). Rendered in the calling thread: on a
    2-core CPU a renderer thread beside torch's two slowed training (0.50 against 0.46 s a
    step, measured alone)."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0xC1A55]))
    for step in range(config.steps):
        yield draw_batch(step, config, pool, hw, fixed_images, fixed_labels, rng)
