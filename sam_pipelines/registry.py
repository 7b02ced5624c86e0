"""A registry of segmenter back ends, in the style of the strategy registry.

Every back end follows ``segment_anything.SamPredictor``'s contract (see :class:`Segmenter`), so a
pipeline can swap SAM for a weight-free classical method without changing any other code::

    seg = get_segmenter("flood_fill")
    seg.set_image(image)                      # uint8 RGB (H, W, 3)
    masks, scores, low_res = seg.predict(point_coords, point_labels)  # (X, Y) pixel points

Names: ``sam`` (the real model), the classical back ends (``flood_fill``, ``random_walker``,
``watershed``) and ``auto`` (``sam`` when a checkpoint is found, else the best classical back end).
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

T = TypeVar("T", bound=Callable[..., Any])


class SegmenterError(ValueError):
    """Bad segmenter registration, lookup or input; the message names the segmenter."""


@runtime_checkable
class Segmenter(Protocol):
    """What a back end provides (``SamPredictor``'s contract plus a name).

    Attributes:
        name: registry name, e.g. ``"sam"`` or ``"flood_fill"``; results carry it.
        kind: ``"sam"`` for the real model, ``"classical"`` for weight-free back ends, so a
            classical result is never labelled SAM.
    """

    name: str
    kind: str

    def set_image(self, image: np.ndarray, image_format: str = "RGB") -> None:
        """Prepare for prompts on ``image``, uint8 (H, W, 3) in ``image_format`` channel order."""
        ...

    def predict(
        self,
        point_coords: np.ndarray | None = None,
        point_labels: np.ndarray | None = None,
        box: np.ndarray | None = None,
        mask_input: np.ndarray | None = None,
        multimask_output: bool = True,
        return_logits: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks for point prompts on the current image.

        Args:
            point_coords: float (N, 2), each point (X, Y) in pixels of the original image.
            point_labels: (N,), 1 = foreground, 0 = background.
            box: unused by the classical back ends (SAM accepts an XYXY box).
            mask_input: (1, h, w) low-resolution logits from a previous ``predict`` of the
                same back end (its third output), or None.
            multimask_output: three candidate masks when True, one when False.
            return_logits: un-thresholded logits instead of bool masks.

        Returns:
            masks bool (C, H, W) (float logits with ``return_logits``), scores float (C,) (a
            predicted quality, higher is better), low-resolution logits float (C, h, w)
            (SAM: h = w = 256) to feed back as ``mask_input``.
        """
        ...

    def describe(self) -> str:
        """One line naming the back end and its settings, for tables and logs."""
        ...


@dataclass(frozen=True)
class SegmenterEntry:
    """A registered back end: its factory, kind and one-line description."""

    name: str
    factory: Callable[..., Segmenter]
    kind: str
    description: str


_REGISTRY: dict[str, SegmenterEntry] = {}


def register_segmenter(name: str, *, kind: str, description: str) -> Callable[[T], T]:
    """Decorator registering a back-end class (or factory function) under ``name``.

    Args:
        name: unique registry name.
        kind: ``"sam"``, ``"classical"`` or ``"auto"``.
        description: one sentence for ``--list`` style output.
    """
    if not name or not isinstance(name, str):
        raise SegmenterError(f"segmenter name must be a non-empty string, got {name!r}")
    if kind not in ("sam", "classical", "auto"):
        raise SegmenterError(
            f"segmenter {name!r}: kind must be sam, classical or auto, got {kind!r}"
        )

    def decorator(factory: T) -> T:
        if name in _REGISTRY:
            raise SegmenterError(f"a segmenter named {name!r} is already registered")
        _REGISTRY[name] = SegmenterEntry(name, factory, kind, " ".join(description.split()))
        return factory

    return decorator


def unregister_segmenter(name: str) -> None:
    """Remove ``name`` from the registry (for tests)."""
    if name not in _REGISTRY:
        raise SegmenterError(f"no segmenter named {name!r} is registered")
    del _REGISTRY[name]


def segmenter_entry(name: str) -> SegmenterEntry:
    """The registry entry for ``name``; unknown names raise, listing the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = sorted(_REGISTRY)
        close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.0)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SegmenterError(
            f"unknown segmenter {name!r}.{hint} Known segmenters: {', '.join(known)}"
        ) from None


def get_segmenter(name: str, **kwargs: Any) -> Segmenter:
    """A new instance of the back end ``name``, built with ``kwargs``.

    Raises:
        SegmenterError: for an unknown name (the message lists the known names).
    """
    return segmenter_entry(name).factory(**kwargs)


def list_segmenters(pattern: str = "*", kind: str | None = None) -> list[str]:
    """Sorted registered names matching the fnmatch ``pattern`` (and ``kind`` when given)."""
    return sorted(
        name
        for name, entry in _REGISTRY.items()
        if fnmatch.fnmatchcase(name, pattern) and (kind is None or entry.kind == kind)
    )
