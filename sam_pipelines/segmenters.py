"""The segmenter back ends by name, and :func:`make_segmenter`, which builds one.

Every back end has ``SamPredictor``'s ``set_image`` / ``predict`` (the contract is documented at
:meth:`sam_pipelines.classical_base.ClassicalSegmenter.predict`) plus ``name``, ``kind`` and
``describe()``, so a pipeline can swap SAM for a weight-free method::

    seg = make_segmenter("flood_fill")
    seg.set_image(image)                      # uint8 RGB (H, W, 3)
    masks, scores, low_res = seg.predict(point_coords, point_labels)  # (X, Y) pixel points
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.lookup import lookup
from sam_pipelines.checkpoint import DEFAULT_CHECKPOINT_DIR, DownloadError, resolve_sam_checkpoint
from sam_pipelines.checks import SegmenterError
from sam_pipelines.classical_base import ClassicalSegmenter
from sam_pipelines.flood_fill import FloodFillSegmenter
from sam_pipelines.random_walker import RandomWalkerSegmenter
from sam_pipelines.sam_backend import SamSegmenter
from sam_pipelines.watershed import WatershedSegmenter

BEST_CLASSICAL = "flood_fill"

Segmenter = ClassicalSegmenter | SamSegmenter


class SegmenterFallbackWarning(UserWarning):
    """``auto`` could not get a SAM checkpoint and uses a classical back end instead."""


def auto_segmenter(
    model_type: str = "vit_b",
    checkpoint: Path | str | None = None,
    *,
    download: bool = True,
    url: str | None = None,
    checkpoint_dir: Path | str = DEFAULT_CHECKPOINT_DIR,
    environ: Mapping[str, str] | None = None,
    **sam_options: Any,
) -> Segmenter:
    """SAM (``model_type``), its checkpoint resolved as ``sam`` does; only when none is on disk
    and the download gets no answer (or ``download=False``), :data:`BEST_CLASSICAL`, with a
    :class:`SegmenterFallbackWarning`. A missing explicit file or an unusable checkpoint raises
    instead. ``url`` replaces the official source; ``sam_options`` go to :class:`SamSegmenter`.
    """
    try:
        path = resolve_sam_checkpoint(
            model_type, checkpoint, checkpoint_dir, environ, download, url
        )
    except DownloadError as err:
        reason = f"the download failed: {err}" if download else "downloading is off"
        warnings.warn(
            f"no SAM {model_type} checkpoint could be had (no checkpoint found and {reason}); "
            f"using the classical back end {BEST_CLASSICAL!r} instead, and results are labelled "
            f"{BEST_CLASSICAL!r}, not SAM",
            SegmenterFallbackWarning,
            stacklevel=2,
        )
        return make_segmenter(BEST_CLASSICAL)
    return SamSegmenter(model_type=model_type, checkpoint=path, **sam_options)


@dataclass(frozen=True)
class BackEnd:
    """A back end: what builds it, its kind (``"sam"``, ``"classical"`` or ``"auto"``) and one
    sentence for ``--list``."""

    build: Callable[..., Segmenter]
    kind: str
    description: str


SEGMENTERS: dict[str, BackEnd] = {
    "auto": BackEnd(
        auto_segmenter,
        "auto",
        "sam with the checkpoint found locally or downloaded; when the download gets no answer "
        f"(offline), {BEST_CLASSICAL} with a warning.",
    ),
    "flood_fill": BackEnd(
        FloodFillSegmenter,
        "classical",
        "Lab colour flood fill from the foreground points; the tolerance (2..24) whose region "
        "has the strongest boundary and holds no background point wins.",
    ),
    "random_walker": BackEnd(
        RandomWalkerSegmenter,
        "classical",
        "skimage random walker on Lab colours, seeded by the points and by the edges of a "
        "window around the foreground points.",
    ),
    "sam": BackEnd(
        SamSegmenter,
        "sam",
        "segment_anything's SamPredictor (vit_b by default) with an image-embedding cache: one "
        "encoder pass per distinct image.",
    ),
    "watershed": BackEnd(
        WatershedSegmenter,
        "classical",
        "marker watershed on the Lab edge strength, seeded by the points and by the edges of "
        "windows around the foreground points.",
    ),
}


def back_end(name: str) -> BackEnd:
    """The entry of ``name`` in :data:`SEGMENTERS`; an unknown name raises a
    :class:`SegmenterError` that suggests the closest one and lists them all."""
    return lookup(name, SEGMENTERS, "segmenter", error=SegmenterError)


def make_segmenter(
    name: str,
    checkpoint: Path | str | None = None,
    model_type: str = "vit_b",
    device: str | None = None,
    **options: Any,
) -> Segmenter:
    """A new back end ``name``; ``checkpoint``, ``model_type`` and ``device`` go to ``sam`` and
    ``auto``; a classical back end ignores the last two but refuses a checkpoint. ``options``
    go to the back end's constructor.

    Raises:
        SegmenterError: unknown name (listing the known ones) or a checkpoint for a classical
            back end.
    """
    entry = back_end(name)
    if entry.kind != "classical":
        return entry.build(checkpoint=checkpoint, model_type=model_type, device=device, **options)
    if checkpoint is not None:
        raise SegmenterError(
            f"a SAM checkpoint ({checkpoint}) was given, but segmenter {name!r} is a "
            "classical back end that does not use one; use --segmenter sam or auto"
        )
    return entry.build(**options)
