"""A registry of point-prompt strategies, in the style of timm's ``register_model``.

A strategy is a per-image function ``fn(cam, image, mask=None) -> (coords, labels)``
decorated with :func:`register_strategy` in any module of ``prompting/`` (see the README's "Add
a strategy"): ``cam`` float (H, W) in 0..1, ``image`` uint8 RGB (H, W, 3), ``mask`` the bool
(H, W) ground truth (oracles only, else ``None``); coords int (N, 2) as (X, Y), labels int
(N,). Its name is the function's name, its description the docstring's first paragraph, its
:data:`FAMILIES` entry what it reads (declared in the decorator). :func:`get_strategy` returns
the :class:`Strategy` that pipelines call on whole batches.
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from common.lookup import lookup
from prompting.points import Points, points_for_batch

PerImageFn = Callable[..., Points]

#: What a strategy reads, the report's sections: ``heat`` the heat map alone (ours),
#: ``image`` the image too, ``published`` a published strategy (the heat map alone),
#: ``oracle`` the ground-truth mask.
FAMILIES = ("heat", "image", "published", "oracle")


class StrategyError(ValueError):
    """Bad strategy registration, lookup or call; the message names the strategy."""


@dataclass(frozen=True)
class Strategy:
    """A registered point-prompt strategy, callable on batches.

    Attributes:
        name: registry name (the function's name).
        emits_background: whether it returns background points (label 0) besides foreground.
        oracle: whether it reads the ground-truth mask (a ceiling, never an automatic method).
        description: 1 to 3 sentences for tables and reports (the docstring's first paragraph).
        fn: the per-image function ``fn(cam, image, mask) -> (coords, labels)``.
        reads_image: whether it reads the image besides the heat map.
        published: whether it reproduces a published strategy (its source in the description).
    """

    name: str
    emits_background: bool
    oracle: bool
    description: str
    fn: PerImageFn = field(repr=False)
    reads_image: bool = False
    published: bool = False

    @property
    def family(self) -> str:
        """One of :data:`FAMILIES`: ``"oracle"``, ``"published"``, ``"image"`` (reads the image)
        or ``"heat"`` (the heat map alone)."""
        if self.oracle:
            return "oracle"
        if self.published:
            return "published"
        return "image" if self.reads_image else "heat"

    @property
    def kind(self) -> str:
        """``"oracle"`` (reads the ground truth), ``"fg+bg"`` (also background) or ``"fg"``."""
        if self.oracle:
            return "oracle"
        return "fg+bg" if self.emits_background else "fg"

    def __call__(
        self, cams: np.ndarray, images: np.ndarray, masks: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Point prompts for a batch: float heat maps ``cams`` (B, H, W) (clipped to 0..1; NaN
        is an error), uint8 RGB ``images`` (B, H, W, 3), bool ground-truth ``masks`` (B, H, W)
        (required by oracles, ignored otherwise) -> coords int64 (B, N, 2) as (X, Y) pixels
        inside the image and labels int64 (B, N), 1 = fg, 0 = bg; N is the same for every
        image. Every image's points are checked (:func:`prompting.points.validate_points`, at
        least one foreground point, background points as declared, no pixel both)."""
        cams, images, masks = self._check_inputs(cams, images, masks)
        if len(cams) == 0:
            return np.zeros((0, 0, 2), np.int64), np.zeros((0, 0), np.int64)
        coords, labels = points_for_batch(self.fn, cams, images, masks if self.oracle else None)
        for i in range(len(cams)):
            self._check_labels(coords[i], labels[i], i)
        return coords, labels

    def _check_inputs(
        self, cams: np.ndarray, images: np.ndarray, masks: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        cams = np.asarray(cams)
        images = np.asarray(images)
        if cams.ndim != 3:
            raise StrategyError(f"{self.name}: cams must be (B, H, W), got shape {cams.shape}")
        if not np.issubdtype(cams.dtype, np.floating):
            raise StrategyError(f"{self.name}: cams must be floating point, got {cams.dtype}")
        if np.isnan(cams).any():
            raise StrategyError(f"{self.name}: cams contain NaN")
        if images.shape != (*cams.shape, 3) or images.dtype != np.uint8:
            raise StrategyError(
                f"{self.name}: images must be uint8 {(*cams.shape, 3)} to match cams, "
                f"got {images.dtype} {images.shape}"
            )
        cams = np.clip(cams.astype(np.float32, copy=False), 0.0, 1.0)
        if self.oracle:
            if masks is None:
                raise StrategyError(
                    f"strategy {self.name!r} is an oracle: it needs the ground-truth masks, "
                    "but masks=None was passed"
                )
            masks = np.asarray(masks, dtype=bool)
            if masks.shape != cams.shape:
                raise StrategyError(
                    f"{self.name}: masks must have shape {cams.shape}, got {masks.shape}"
                )
        return cams, images, masks

    def _check_labels(self, coords: np.ndarray, labels: np.ndarray, i: int) -> None:
        fg = {tuple(p) for p in coords[labels == 1].tolist()}
        both = sorted(fg & {tuple(p) for p in coords[labels == 0].tolist()})
        if both:
            raise StrategyError(
                f"strategy {self.name!r} put a foreground and a background point on the "
                f"same pixel (X, Y) = {both[0]} (image {i})"
            )
        n_bg = int((labels == 0).sum())
        if not fg:
            raise StrategyError(f"strategy {self.name!r} returned no foreground point (image {i})")
        if self.emits_background != (n_bg > 0):
            raise StrategyError(
                f"strategy {self.name!r} declares emits_background={self.emits_background} "
                f"but returned {n_bg} background point(s) (image {i})"
            )


_REGISTRY: dict[str, Strategy] = {}


def register_strategy(
    *,
    emits_background: bool,
    oracle: bool = False,
    reads_image: bool = False,
    published: bool = False,
) -> Callable[[PerImageFn], PerImageFn]:
    """Decorator registering a per-image strategy function under its own name: whether it
    ``emits_background`` points, is an ``oracle`` (reads the ground-truth mask), ``reads_image``
    (besides the heat map) or reproduces a ``published`` strategy; together they make its
    :attr:`Strategy.family`. The function is returned unchanged; a taken name, a missing
    docstring (its first paragraph is the strategy's description) or an oracle declared
    published raises :class:`StrategyError`."""

    def decorator(fn: PerImageFn) -> PerImageFn:
        name = fn.__name__
        if name in _REGISTRY:
            raise StrategyError(f"a strategy named {name!r} is already registered")
        description = " ".join(inspect.cleandoc(fn.__doc__ or "").split("\n\n")[0].split())
        if not description:
            raise StrategyError(f"strategy {name!r} needs a docstring (its description)")
        if oracle and published:
            raise StrategyError(f"strategy {name!r}: an oracle cannot be a published strategy")
        _REGISTRY[name] = Strategy(
            name, emits_background, oracle, description, fn, reads_image, published
        )
        return fn

    return decorator


def get_strategy(name: str) -> Strategy:
    """The registered strategy ``name``; an unknown name raises :class:`StrategyError` with the
    closest match and the known names."""
    return lookup(name, _REGISTRY, "strategy", plural="strategies", error=StrategyError)


def list_strategies(pattern: str = "*", family: str | None = None) -> list[str]:
    """Sorted names of registered strategies matching the fnmatch ``pattern`` (and of
    ``family``, one of :data:`FAMILIES`, when given; another value raises
    :class:`StrategyError` listing them)."""
    if family is not None and family not in FAMILIES:
        raise StrategyError(f"unknown strategy family {family!r}; known: {', '.join(FAMILIES)}")
    return sorted(
        name
        for name, strategy in _REGISTRY.items()
        if fnmatch.fnmatchcase(name, pattern) and family in (None, strategy.family)
    )
