"""A registry of point-prompt strategies, in the style of timm's ``register_model``.

A strategy is written as a *per-image* function (or a class whose instances are such
functions)::

    @register_strategy("my_strategy", emits_background=False, description="...")
    def my_strategy(cam, image, mask=None, *, n_points=1):
        ...
        return coords, labels  # int (N, 2) as (X, Y), int (N,)

where ``cam`` is float (H, W) in 0..1, ``image`` uint8 RGB (H, W, 3) and ``mask`` the bool
(H, W) ground truth (passed to oracles only, ``None`` otherwise). Keyword-only parameters
with defaults are the strategy's knobs; registering the same function again under another
name with other ``defaults`` gives a parametrized variant without copying code.

:func:`get_strategy` returns a :class:`Strategy`, which is what pipelines call on whole
batches: ``strategy(cams, images, masks=None) -> (coords, labels)`` with coords int64
(B, N, 2) in (X, Y) pixel order and labels int64 (B, N) (1 = foreground, 0 = background).
It checks the inputs, runs the function on every image and checks every output with
:func:`prompting.points.validate_points` and that no pixel holds both a foreground and a
background point.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np

from prompting.points import validate_points

PerImageFn = Callable[..., tuple[np.ndarray, np.ndarray]]
T = TypeVar("T")


class StrategyError(ValueError):
    """Bad strategy registration, lookup or call; the message names the strategy."""


@dataclass(frozen=True)
class Strategy:
    """A registered point-prompt strategy, callable on batches.

    Attributes:
        name: registry name.
        emits_background: whether it returns background points (label 0) besides foreground.
        oracle: whether it reads the ground-truth mask (a ceiling, never an automatic method).
        description: 1 to 3 sentences for tables and reports.
        fn: the per-image function ``fn(cam, image, mask, **params) -> (coords, labels)``, or,
            for a registered class, an instance called as ``fn(cam, image, mask)``.
        params: the keyword arguments ``fn`` is called with (for a class: its constructor's).
        factory: the registered class (None for a function); ``with_params`` rebuilds from it.
    """

    name: str
    emits_background: bool
    oracle: bool
    description: str
    fn: PerImageFn = field(repr=False)
    params: Mapping[str, Any] = field(default_factory=dict)
    factory: type | None = field(default=None, repr=False)

    def with_params(self, **overrides: Any) -> Strategy:
        """A copy with some parameters changed (unknown names raise :class:`StrategyError`)."""
        unknown = sorted(set(overrides) - set(self.params))
        if unknown:
            raise StrategyError(
                f"strategy {self.name!r} has no parameter(s) {unknown}; "
                f"its parameters are {sorted(self.params)}"
            )
        params = {**self.params, **overrides}
        fn = self.factory(**params) if self.factory is not None else self.fn
        return Strategy(
            self.name,
            self.emits_background,
            self.oracle,
            self.description,
            fn,
            MappingProxyType(params),
            self.factory,
        )

    def __call__(
        self, cams: np.ndarray, images: np.ndarray, masks: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Point prompts for a batch.

        Args:
            cams: float (B, H, W) heat maps in 0..1 (values are clipped to 0..1; NaN is an error).
            images: uint8 RGB (B, H, W, 3), the matching images.
            masks: bool (B, H, W) ground-truth masks; required by oracles, ignored otherwise.

        Returns:
            coords int64 (B, N, 2), each point (X, Y) in pixels inside the image, and labels
            int64 (B, N), 1 = foreground, 0 = background. N is the same for every image.
        """
        cams, images, masks = self._check_inputs(cams, images, masks)
        coords_list, labels_list = [], []
        for i in range(cams.shape[0]):
            mask_i = masks[i] if self.oracle else None
            if self.factory is not None:
                coords, labels = self.fn(cams[i], images[i], mask_i)
            else:
                coords, labels = self.fn(cams[i], images[i], mask_i, **self.params)
            coords, labels = validate_points(
                coords, labels, cams.shape[1:], where=f"strategy {self.name!r}, image {i}"
            )
            self._check_labels(labels, i, coords)
            if coords_list and coords.shape != coords_list[0].shape:
                raise StrategyError(
                    f"strategy {self.name!r} returned {coords.shape[0]} points for image {i} "
                    f"but {coords_list[0].shape[0]} for image 0; N must be fixed per strategy"
                )
            coords_list.append(coords)
            labels_list.append(labels)
        if not coords_list:
            return np.zeros((0, 0, 2), np.int64), np.zeros((0, 0), np.int64)
        return np.stack(coords_list), np.stack(labels_list)

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
            masks = np.asarray(masks)
            if masks.shape != cams.shape:
                raise StrategyError(
                    f"{self.name}: masks must have shape {cams.shape}, got {masks.shape}"
                )
            masks = masks.astype(bool, copy=False)
        return cams, images, masks

    def _check_labels(self, labels: np.ndarray, i: int, coords: np.ndarray | None = None) -> None:
        if coords is not None:
            fg = {tuple(p) for p in coords[labels == 1].tolist()}
            both = sorted(fg & {tuple(p) for p in coords[labels == 0].tolist()})
            if both:
                raise StrategyError(
                    f"strategy {self.name!r} put a foreground and a background point on the "
                    f"same pixel (X, Y) = {both[0]} (image {i})"
                )
        n_fg = int((labels == 1).sum())
        n_bg = int((labels == 0).sum())
        if n_fg == 0:
            raise StrategyError(f"strategy {self.name!r} returned no foreground point (image {i})")
        if self.emits_background and n_bg == 0:
            raise StrategyError(
                f"strategy {self.name!r} declares emits_background=True "
                f"but returned no background point (image {i})"
            )
        if not self.emits_background and n_bg > 0:
            raise StrategyError(
                f"strategy {self.name!r} declares emits_background=False "
                f"but returned {n_bg} background point(s) (image {i})"
            )


_REGISTRY: dict[str, Strategy] = {}


def _keyword_defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    """Parameters of ``fn`` that have defaults and can be passed by keyword."""
    sig = inspect.signature(fn)
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.kind in kinds and p.default is not inspect.Parameter.empty and p.name != "mask"
    }


def register_strategy(
    name: str,
    *,
    emits_background: bool,
    description: str,
    oracle: bool = False,
    defaults: Mapping[str, Any] | None = None,
) -> Callable[[T], T]:
    """Decorator registering a per-image strategy function or class under ``name``.

    Args:
        name: unique registry name (a second registration of the same name raises).
        emits_background: whether the strategy returns background points.
        description: 1 to 3 sentences describing the method.
        oracle: True when it reads the ground-truth mask.
        defaults: keyword parameters overriding the function's own defaults (for a class:
            the constructor's keyword arguments). Decorators can be stacked to register
            variants of one function.

    Returns:
        The decorator, which returns the function or class unchanged.
    """
    if not name or not isinstance(name, str):
        raise StrategyError(f"strategy name must be a non-empty string, got {name!r}")
    if not description or not description.strip():
        raise StrategyError(f"strategy {name!r} needs a description")
    overrides = dict(defaults or {})

    def decorator(obj: T) -> T:
        if name in _REGISTRY:
            raise StrategyError(f"a strategy named {name!r} is already registered")
        if not callable(obj):
            raise StrategyError(f"strategy {name!r}: cannot register non-callable {obj!r}")
        is_class = inspect.isclass(obj)
        params = _keyword_defaults(obj.__init__ if is_class else obj)  # type: ignore[misc]
        unknown = sorted(set(overrides) - set(params))
        if unknown:
            raise StrategyError(
                f"strategy {name!r}: defaults {unknown} are not keyword parameters with "
                f"defaults of {obj.__name__}; those are {sorted(params)}"
            )
        params.update(overrides)
        fn = obj(**params) if is_class else obj
        _REGISTRY[name] = Strategy(
            name=name,
            emits_background=emits_background,
            oracle=oracle,
            description=" ".join(description.split()),
            fn=fn,
            params=MappingProxyType(params),
            factory=obj if is_class else None,
        )
        return obj

    return decorator


def unregister_strategy(name: str) -> None:
    """Remove ``name`` from the registry (for tests and interactive experiments)."""
    if name not in _REGISTRY:
        raise StrategyError(f"no strategy named {name!r} is registered")
    del _REGISTRY[name]


def get_strategy(name: str, **params: Any) -> Strategy:
    """The registered strategy ``name``, optionally with some parameters overridden.

    Raises:
        StrategyError: for an unknown name, listing the known names and the closest match.
    """
    try:
        strategy = _REGISTRY[name]
    except KeyError:
        known = sorted(_REGISTRY)
        close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.0)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise StrategyError(
            f"unknown strategy {name!r}.{hint} Known strategies: {', '.join(known)}"
        ) from None
    return strategy.with_params(**params) if params else strategy


def list_strategies(pattern: str = "*", include_oracles: bool = True) -> list[str]:
    """Sorted names of registered strategies matching the fnmatch ``pattern``."""
    return sorted(
        name
        for name, s in _REGISTRY.items()
        if fnmatch.fnmatchcase(name, pattern) and (include_oracles or not s.oracle)
    )
