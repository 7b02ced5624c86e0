"""Image-aware strategies: find the flat-coloured, hard-edged region the heat map points at.

The shapes are flat colours alpha-blended over a blurry, upsampled background, so the shape's
outline is a one-pixel colour step while its inside varies only as much as the (smooth)
background shows through. Both strategies here split the image into candidate regions,
score each region by

    score = (mean heat + heat_floor) * edge_contrast * size * border * compactness * thin
            * sharpness

where ``edge_contrast = (geometric) mean colour step across the region's outline / (mean
colour step between neighbouring pixels inside it + contrast_offset)`` (see
:func:`region_scores`; the inside variation leaves out channels that clipping flattened,
:func:`unclipped_steps`) and ``sharpness`` compares each step across the outline with the
steps just beside it (a one-pixel step, not a smooth gradient), and prompt the best region's
interior (:func:`prompting.points.interior_point`). The ``*_bg`` variants add background
points far from that region, away from the heat and from other shape-like regions. They
differ in how candidates are made: Felzenszwalb's graph-based segmentation (``segment_heat``;
at several scales, the best region over all of them, ``multiscale_heat``) or colour flood
fills from every pixel (``flood_heat``).

The image cue is strong on its own (with an all-zero heat map both still find the shape in
most images), so the heat acts as a prior: ``heat_floor`` (0.3) keeps a misleading map
from overruling a clearly shape-like region, while a good map decides the close calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage
from skimage.segmentation import felzenszwalb

from prompting.points import Points, distance_from, interior_point, make_points, spread_points
from prompting.registry import register_strategy


def neighbour_steps(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colour distance (L2 over the channels) between pixel neighbours of a uint8 (H, W, 3)
    image: float32 (H, W-1) between (y, x) and (y, x+1), float32 (H-1, W) between (y, x) and
    (y+1, x)."""
    f = image.astype(np.float32)
    dx = np.sqrt(((f[:, 1:] - f[:, :-1]) ** 2).sum(-1))
    dy = np.sqrt(((f[1:] - f[:-1]) ** 2).sum(-1))
    return dx, dy


def unclipped_steps(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The colour variation between pixel neighbours of a uint8 (H, W, 3) image, leaving out
    what clipping erased: float32 (H, W-1) and (H-1, W), laid out as :func:`neighbour_steps`.

    A channel where both neighbours sit at the same bound (both 0 or both 255) says nothing
    about the variation there (a noisy background pushed past white is flat only because it
    was clipped), so the step is measured over the other channels, scaled to all three
    (``sqrt(3 / k * sum of the k squared differences)``). A pair clipped in every channel
    gets the image's median step: it counts as a typical pair, neither flat nor busy.
    """
    f = image.astype(np.float32)
    low, high = image == 0, image == 255
    out = []
    for a, b in (
        (np.s_[:, 1:], np.s_[:, :-1]),
        (np.s_[1:], np.s_[:-1]),
    ):
        known = ~((low[a] & low[b]) | (high[a] & high[b]))
        k = known.sum(-1)
        squared = (((f[a] - f[b]) ** 2) * known).sum(-1)
        out.append(np.where(k > 0, np.sqrt(squared * 3.0 / np.maximum(k, 1)), np.nan))
    measured = np.concatenate([o[~np.isnan(o)] for o in out])
    typical = np.float32(np.median(measured)) if measured.size else np.float32(0.0)
    dx, dy = (np.where(np.isnan(o), typical, o).astype(np.float32) for o in out)
    return dx, dy


@dataclass(frozen=True)
class RegionStats:
    """Per-region statistics of a label image with labels 0..n-1 (arrays of length n)."""

    area: np.ndarray  # pixels
    heat: np.ndarray  # mean heat
    edge_step: np.ndarray  # geometric mean colour step across the outline (0 if no outline)
    inner_step: np.ndarray  # mean colour step between neighbours inside the region
    border_share: np.ndarray  # share of the outline lying on the image border
    compactness: np.ndarray  # 16 * area / perimeter**2 (1 for a square, ~0.2 for a 1-px line)
    core: np.ndarray  # pixels whose 8 neighbours all lie in the region (0: at most 2 px wide)
    sharpness: np.ndarray  # geometric mean of (1 + step across outline) / (1 + step beside it)


def region_stats(
    labels: np.ndarray,
    n: int,
    cam: np.ndarray,
    steps: tuple[np.ndarray, np.ndarray],
    inner_steps: tuple[np.ndarray, np.ndarray] | None = None,
    log_sharpness: tuple[np.ndarray, np.ndarray] | None = None,
) -> RegionStats:
    """Vectorised :class:`RegionStats` of int (H, W) ``labels`` in 0..n-1, given the float
    (H, W) heat map and the image's :func:`neighbour_steps`. ``inner_steps`` (same layout,
    default ``steps``) measure the variation inside regions; the strategies pass
    :func:`unclipped_steps`, so a patch that clipping flattened does not pass for a flat
    shape. ``log_sharpness`` is :func:`pair_log_sharpness` of ``steps``, computed here when
    not given (pass it when scoring several labelings of one image).

    ``edge_step`` is the geometric mean ``exp(mean(log(step + 1))) - 1`` over the neighbour
    pairs cut by the region's outline: a region cut out by strong steps all around scores
    higher than one whose outline is strong only on one side, such as a background patch
    beside the shape (chosen over the arithmetic mean on the stress suite's val splits).
    ``core`` counts the pixels that survive one 3 x 3 erosion of the region, the image border
    counting as outside. ``sharpness`` is the geometric mean over the cut pairs of
    ``(1 + step) / (1 + larger parallel step beside it)``, the steps one pixel before and one
    after the cut pair in the same direction (the image border contributes none): a shape's
    outline is a one-pixel colour step between flat sides, well above 1, while a segment
    boundary drawn across a smooth background gradient has steps as large beside it, about 1.
    """
    flat = labels.ravel()
    area = np.bincount(flat, minlength=n).astype(np.float64)
    heat = np.bincount(flat, cam.ravel(), minlength=n) / np.maximum(area, 1)
    edge_sum, edge_cnt, inner_sum, inner_cnt, sharp_sum = np.zeros((5, n))
    dx, dy = steps
    inner_dx, inner_dy = steps if inner_steps is None else inner_steps
    sharp_dx, sharp_dy = pair_log_sharpness(steps) if log_sharpness is None else log_sharpness
    pairs = (
        (labels[:, :-1], labels[:, 1:], dx, inner_dx, sharp_dx),
        (labels[:-1], labels[1:], dy, inner_dy, sharp_dy),
    )
    for a, b, step, inner, sharp in pairs:
        a, b, step, inner = a.ravel(), b.ravel(), step.ravel(), inner.ravel()
        cut = a != b
        log_step = np.log1p(step[cut])
        log_sharp = sharp.ravel()[cut]
        edge_sum += np.bincount(a[cut], log_step, minlength=n)
        edge_sum += np.bincount(b[cut], log_step, minlength=n)
        sharp_sum += np.bincount(a[cut], log_sharp, minlength=n)
        sharp_sum += np.bincount(b[cut], log_sharp, minlength=n)
        edge_cnt += np.bincount(a[cut], minlength=n) + np.bincount(b[cut], minlength=n)
        inner_sum += np.bincount(a[~cut], inner[~cut], minlength=n)
        inner_cnt += np.bincount(a[~cut], minlength=n)
    border = np.concatenate([labels[0], labels[-1], labels[1:-1, 0], labels[1:-1, -1]])
    on_border = np.bincount(border, minlength=n)
    return RegionStats(
        area=area,
        heat=heat,
        edge_step=np.expm1(edge_sum / np.maximum(edge_cnt, 1)),
        inner_step=inner_sum / np.maximum(inner_cnt, 1),
        border_share=on_border / np.maximum(on_border + edge_cnt, 1),
        compactness=16.0 * area / np.maximum(on_border + edge_cnt, 1) ** 2,
        core=_core_sizes(labels, n),
        sharpness=np.exp(sharp_sum / np.maximum(edge_cnt, 1)),
    )


def pair_log_sharpness(steps: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """For every neighbour pair of the image's :func:`neighbour_steps` (same layout, float32):
    ``log(1 + step) - log(1 + larger parallel step beside it)`` (see :func:`region_stats`)."""
    dx, dy = steps
    return (
        np.log1p(dx) - np.log1p(_beside(dx, axis=1)),
        np.log1p(dy) - np.log1p(_beside(dy, axis=0)),
    )


def _beside(step: np.ndarray, axis: int) -> np.ndarray:
    """float32, the shape of ``step`` (steps between neighbours along ``axis``): for each pair,
    the larger of the steps of the pair before it and the pair after it along ``axis`` (0
    where the image border leaves none)."""
    width = [(0, 0), (0, 0)]
    width[axis] = (1, 1)
    padded = np.pad(step, width)
    n = step.shape[axis]
    before = np.take(padded, np.arange(0, n), axis=axis)
    after = np.take(padded, np.arange(2, n + 2), axis=axis)
    return np.maximum(before, after)


def _core_sizes(labels: np.ndarray, n: int) -> np.ndarray:
    """int (n,): per label of int (H, W) ``labels``, the pixels whose 8 neighbours carry the
    same label (outside the image counts as another label)."""
    h, w = labels.shape
    padded = np.pad(labels, 1, constant_values=-1)
    inside = np.ones((h, w), bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            inside &= padded[dy : dy + h, dx : dx + w] == labels
    return np.bincount(labels[inside], minlength=n)


FACTORS = ("heat", "edge", "inner", "size", "border", "compact", "thin", "sharp")
"""The names of the score's factors, in the order of :attr:`RegionSettings.exponents`."""


@dataclass(frozen=True)
class RegionSettings:
    """The knobs of the image-aware strategies and their defaults.

    Attributes:
        scale, min_size: of :func:`skimage.segmentation.felzenszwalb` (``segment_heat``).
        tolerance: colour step below which the flood fill joins neighbours (``flood_heat``).
        heat_floor: added to a region's mean heat, so a cold but clearly shape-like region
            can still win.
        contrast_offset: added to the colour variation inside a region before dividing.
        min_area: regions of fewer pixels score ``(area / min_area) ** small_power`` times
            as much (a soft prior: a tiny but clearly shape-like region can still win).
        small_power: see ``min_area``; chosen on the stress suite's val splits
            (docs/stress_suite.md).
        max_area: regions of more pixels score 1e-3 times as much.
        min_compactness: compactness at and above which a region is not penalised (0.4:
            a median star, 0.35, scores 0.88 times as much; chosen on the stress suite's
            val splits, docs/stress_suite.md).
        thin_factor: a region without core (``RegionStats.core`` 0: nowhere wider than 2 px,
            like a sliver along an edge) scores this many times as much; chosen on the stress
            suite's val splits (docs/stress_suite.md).
        sharp_cap: the outline's sharpness enters the score up to this value (2.5; on the
            stress suite's val splits a shape's candidate has a median sharpness of 3.6-8.2,
            the others about 1 and above 2.5 in at most 1.1 % of them, while a few small
            patches, often in an image corner cut off by the shape's own edge, reach 15-40 and
            would otherwise win; chosen on those val splits, docs/stress_suite.md).
        exponents: one per factor of :data:`FACTORS`, the power it enters the score with.
    """

    scale: float = 300.0
    min_size: int = 10
    tolerance: float = 16.0
    heat_floor: float = 0.3
    contrast_offset: float = 3.0
    min_area: int = 15
    small_power: float = 3.0
    max_area: int = 600
    min_compactness: float = 0.4
    thin_factor: float = 0.5
    sharp_cap: float = 2.5
    exponents: tuple[float, ...] = (1.0,) * len(FACTORS)

    def __post_init__(self) -> None:
        if len(self.exponents) != len(FACTORS):
            raise ValueError(
                f"exponents: need {len(FACTORS)}, one per factor {FACTORS}, got {self.exponents}"
            )


def region_factors(stats: RegionStats, s: RegionSettings) -> dict[str, np.ndarray]:
    """The score's factors, float64 (n,) each, keyed by :data:`FACTORS`; all are positive.

    ``heat`` = mean heat + ``heat_floor``; ``edge`` = the outline's colour step (at least
    1e-6); ``inner`` = 1 / (colour variation inside + ``contrast_offset``), so ``edge * inner``
    is the edge contrast; ``size`` is 1 for ``min_area <= area <= max_area``, ``(area /
    min_area) ** small_power`` below and 1e-3 above; ``border`` goes from 1 (no outline on the
    image border) down to 0.5 (half or more of it); ``compact`` is ``min(1, compactness /
    min_compactness)`` (thin slivers along an edge score low); ``thin`` is ``thin_factor``
    for a region without core, else 1; ``sharp`` is the outline's ``sharpness``, clipped to
    [1e-6, ``sharp_cap``].
    """
    small = np.clip(stats.area / s.min_area, 0.0, 1.0) ** s.small_power
    return {
        "heat": stats.heat + s.heat_floor,
        "edge": np.maximum(stats.edge_step, 1e-6),
        "inner": 1.0 / (stats.inner_step + s.contrast_offset),
        "size": np.maximum(np.where(stats.area <= s.max_area, small, 1e-3), 1e-12),
        "border": 1.0 - 0.5 * np.clip(2.0 * stats.border_share, 0.0, 1.0),
        "compact": np.maximum(np.clip(stats.compactness / s.min_compactness, 0.0, 1.0), 1e-12),
        "thin": np.where(stats.core > 0, 1.0, s.thin_factor),
        "sharp": np.clip(stats.sharpness, 1e-6, s.sharp_cap),
    }


def region_scores(stats: RegionStats, s: RegionSettings) -> np.ndarray:
    """float64 (n,) scores: the product of the :func:`region_factors`, each raised to its
    exponent in ``s.exponents`` (all 1 by default: (heat + floor) * edge contrast * size *
    border * compactness * thin * sharpness)."""
    factors = region_factors(stats, s)
    score = np.ones_like(stats.area, dtype=np.float64)
    for name, exponent in zip(FACTORS, s.exponents, strict=True):
        score = score * factors[name] ** exponent
    return score


def background_points(
    cam: np.ndarray, chosen: np.ndarray, avoid: np.ndarray, n: int
) -> list[tuple[int, int]]:
    """``n`` background points (X, Y) far from the ``chosen`` region, spread apart.

    Candidates exclude ``avoid`` (other shape-like regions) and pixels with heat at least
    0.3 times the maximum; when that leaves nothing, only ``chosen`` is
    excluded (and when even that is empty, nothing). Each pick maximises the distance to
    ``chosen`` and to the points already picked.
    """
    allowed = ~chosen & ~avoid & (cam < 0.3 * float(cam.max()))
    if not allowed.any():
        allowed = ~chosen if (~chosen).any() else np.ones_like(chosen)
    ys, xs = np.nonzero(allowed)
    return spread_points(xs, ys, distance_from(chosen)[ys, xs], n)


def _prompt_best_region(
    labels: np.ndarray,
    stats: RegionStats,
    scores: np.ndarray,
    cam: np.ndarray,
    n_bg: int,
    settings: RegionSettings,
) -> Points:
    """Prompt the interior of the best-scoring region of ``labels`` (int (H, W) in 0..n-1, with
    its :class:`RegionStats` and float (n,) ``scores``), and ``n_bg`` background points away
    from it and from the next 3 regions (those not too large)."""
    order = np.argsort(-scores, kind="stable")
    chosen = labels == order[0]
    fg = interior_point(chosen)
    if n_bg <= 0:
        return make_points([fg])
    others = order[1:4]
    avoid = np.isin(labels, others[stats.area[others] <= settings.max_area])
    return make_points([fg], background_points(cam, chosen, avoid, n_bg))


def _candidate_labelings(
    image: np.ndarray,
    steps: tuple[np.ndarray, np.ndarray],
    scales: tuple[float, ...],
    tolerances: tuple[float, ...],
    min_size: int,
) -> list[tuple[np.ndarray, int]]:
    """The candidate regions: (int (H, W) labels in 0..n-1, n) of a Felzenszwalb segmentation
    of ``image`` at each of ``scales`` and of a colour flood fill
    (:func:`tolerance_components`) at each of ``tolerances``, in that order."""
    labelings = []
    for scale in scales:
        labels = felzenszwalb(image, scale=scale, sigma=0.0, min_size=min_size)
        labelings.append((labels, int(labels.max()) + 1))
    labelings.extend(tolerance_components(steps, tolerance) for tolerance in tolerances)
    if not labelings:
        raise ValueError("need at least one Felzenszwalb scale or flood-fill tolerance")
    return labelings


@dataclass(frozen=True)
class BestLabeling:
    """The candidate labeling whose best region scores highest, with what scored it."""

    labels: np.ndarray  # int (H, W) in 0..n-1
    stats: RegionStats  # of ``labels``
    scores: np.ndarray  # float (n,), :func:`region_scores`
    steps: tuple[np.ndarray, np.ndarray]  # the image's :func:`neighbour_steps`
    inner_steps: tuple[np.ndarray, np.ndarray]  # the image's :func:`unclipped_steps`
    log_sharpness: tuple[np.ndarray, np.ndarray]  # :func:`pair_log_sharpness` of ``steps``

    @property
    def winner(self) -> int:
        """The label of the best-scoring region (the first on ties)."""
        return int(np.argmax(self.scores))


def best_labeling(
    cam: np.ndarray,
    image: np.ndarray,
    scales: tuple[float, ...],
    tolerances: tuple[float, ...],
    s: RegionSettings,
) -> BestLabeling:
    """Score every region of the :func:`_candidate_labelings` of uint8 (H, W, 3) ``image``
    under float (H, W) ``cam``; the labeling whose best region scores highest (the first on
    ties) wins."""
    steps, inner = neighbour_steps(image), unclipped_steps(image)
    sharp = pair_log_sharpness(steps)
    best: BestLabeling | None = None
    for labels, n in _candidate_labelings(image, steps, scales, tolerances, s.min_size):
        stats = region_stats(labels, n, cam, steps, inner, sharp)
        scores = region_scores(stats, s)
        if best is None or scores.max() > best.scores.max():
            best = BestLabeling(labels, stats, scores, steps, inner, sharp)
    assert best is not None  # _candidate_labelings returns at least one
    return best


def _prompt_best_candidate(
    cam: np.ndarray,
    image: np.ndarray,
    scales: tuple[float, ...],
    tolerances: tuple[float, ...],
    n_bg: int,
    s: RegionSettings,
) -> Points:
    """Prompt the best region of :func:`best_labeling` by :func:`_prompt_best_region`."""
    best = best_labeling(cam, image, scales, tolerances, s)
    return _prompt_best_region(best.labels, best.stats, best.scores, cam, n_bg, s)


@register_strategy(emits_background=False, reads_image=True)
def segment_heat(
    cam: np.ndarray, image: np.ndarray, mask: None = None, *, n_bg: int = 0, **settings: Any
) -> Points:
    """Felzenszwalb graph segmentation of the image; each segment is scored by its mean
    heat times its edge contrast (colour step across its outline over the variation
    inside it), size and shape (compact, wider than a 2-px sliver); one foreground point at
    the best segment's interior.

    ``settings`` override :class:`RegionSettings`; ``n_bg`` background points are added
    (see :func:`background_points`).
    """
    s = RegionSettings(**settings)
    return _prompt_best_candidate(cam, image, (s.scale,), (), n_bg, s)


#: ``multiscale_heat``'s Felzenszwalb scales (chosen on the stress suite's val splits).
MULTISCALE_SCALES: tuple[float, ...] = (50.0, 100.0, 300.0)


@register_strategy(emits_background=False, reads_image=True)
def multiscale_heat(
    cam: np.ndarray,
    image: np.ndarray,
    mask: None = None,
    *,
    scales: tuple[float, ...] = MULTISCALE_SCALES,
    tolerances: tuple[float, ...] = (),
    n_bg: int = 0,
    **settings: Any,
) -> Points:
    """Felzenszwalb segments at scales 50, 100 and 300, each scored by its mean heat times how
    shape-like it is (segment_heat's score); the best-scoring segment over all three scales
    gets the foreground point. The finer segmentations split a faint (translucent,
    low-contrast) shape from a background that the coarse one merges it with.

    Scales chosen on the stress suite's val splits (docs/stress_suite.md). ``tolerances`` add
    flood_heat's colour flood fills at those tolerances as candidates (none by default: 8 and
    16 gained 0.1-0.5 points on the val splits but nothing on the test splits, same log);
    ``n_bg`` background points are added (see :func:`background_points`; the other segments
    avoided are those of the winning scale); ``settings`` override :class:`RegionSettings`.
    """
    s = RegionSettings(**settings)
    return _prompt_best_candidate(cam, image, tuple(scales), tuple(tolerances), n_bg, s)


@register_strategy(emits_background=True, reads_image=True)
def multiscale_heat_bg(cam: np.ndarray, image: np.ndarray, mask: None = None) -> Points:
    """multiscale_heat's foreground point plus a background point as far as possible from
    the chosen segment, outside the hot area and outside other shape-like segments."""
    return multiscale_heat(cam, image, n_bg=1)


@register_strategy(emits_background=True, reads_image=True)
def segment_heat_bg(cam: np.ndarray, image: np.ndarray, mask: None = None) -> Points:
    """segment_heat's foreground point plus a background point as far as possible from
    the chosen segment, outside the hot area and outside other shape-like segments."""
    return segment_heat(cam, image, n_bg=1)


def tolerance_components(
    steps: tuple[np.ndarray, np.ndarray], tolerance: float
) -> tuple[np.ndarray, int]:
    """Colour flood fill from every pixel at once: int64 (H, W) labels in 0..n-1 of the
    4-connected colour regions, and n.

    Two 4-neighbours are joined when their :func:`neighbour_steps` (``steps``) is below
    ``tolerance``; the regions are the connected components of that graph, found with
    ``scipy.ndimage.label`` on a grid that interleaves pixels and the links between them.
    """
    dx, dy = steps
    h, w = dx.shape[0], dy.shape[1]
    grid = np.zeros((2 * h - 1, 2 * w - 1), dtype=bool)
    grid[::2, ::2] = True
    grid[::2, 1::2] = dx < tolerance
    grid[1::2, ::2] = dy < tolerance
    labels, n = ndimage.label(grid)
    return labels[::2, ::2].astype(np.int64) - 1, int(n)


@register_strategy(emits_background=False, reads_image=True)
def flood_heat(
    cam: np.ndarray, image: np.ndarray, mask: None = None, *, n_bg: int = 0, **settings: Any
) -> Points:
    """Colour flood fills from every pixel (regions of 4-connected pixels whose colours
    differ by less than a tolerance) are scored like segment_heat by heat, edge
    contrast, size and shape; one foreground point at the best region's interior.

    ``settings`` override :class:`RegionSettings`; ``n_bg`` background points are added.
    """
    s = RegionSettings(**settings)
    return _prompt_best_candidate(cam, image, (), (s.tolerance,), n_bg, s)


@register_strategy(emits_background=True, reads_image=True)
def flood_heat_bg(cam: np.ndarray, image: np.ndarray, mask: None = None) -> Points:
    """flood_heat's foreground point plus a background point far from the chosen region,
    outside the hot area and other shape-like regions."""
    return flood_heat(cam, image, n_bg=1)
