"""``auto``: SAM with the checkpoint found locally or downloaded; without the network, the best
classical back end with a warning.

"Best" is measured with oracle points on the benchmark test split by
``scripts/benchmark_segmenters.py``; :data:`BEST_CLASSICAL` names the winner. The fallback keeps
its own name (``flood_fill``), so a classical result is never labelled SAM.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sam_pipelines.checkpoint import (
    DEFAULT_CHECKPOINT_DIR,
    DownloadError,
    find_sam_checkpoint,
    resolve_sam_checkpoint,
)
from sam_pipelines.registry import (
    Segmenter,
    SegmenterError,
    get_segmenter,
    register_segmenter,
    segmenter_entry,
)
from sam_pipelines.sam_backend import SamSegmenter

BEST_CLASSICAL = "flood_fill"


class SegmenterFallbackWarning(UserWarning):
    """``auto`` could not get a SAM checkpoint and uses a classical back end instead."""


@register_segmenter(
    "auto",
    kind="auto",
    description="sam with the checkpoint found locally or downloaded; when the download gets "
    f"no answer (offline), {BEST_CLASSICAL} with a warning.",
)
def auto_segmenter(
    model_type: str = "vit_b",
    checkpoint: Path | str | None = None,
    checkpoint_dir: Path | str = DEFAULT_CHECKPOINT_DIR,
    environ: Mapping[str, str] | None = None,
    fallback: str = BEST_CLASSICAL,
    download: bool = True,
    url: str | None = None,
    **sam_kwargs: Any,
) -> Segmenter:
    """SAM (``model_type``), its checkpoint resolved and downloaded as ``sam`` does; only when
    no checkpoint is found and the download gets no answer, the classical ``fallback``.

    Args:
        model_type, checkpoint, checkpoint_dir, environ: as for :class:`SamSegmenter`; an
            explicit ``checkpoint`` (or ``SAM_CHECKPOINT``) naming a missing file is an error,
            not a reason to fall back.
        fallback: registry name of the classical back end to use offline.
        download: False never downloads (no checkpoint found means the fallback).
        url: download source (default: the official URL; tests use a local server).
        sam_kwargs: further :class:`SamSegmenter` arguments (device, cache_size, cache_dir).

    Warns:
        SegmenterFallbackWarning: (printed on stderr) when falling back.

    Raises:
        SamCheckpointError: a checkpoint was found or downloaded but is unusable (wrong MD5,
            not loadable): that is never a reason to fall back silently.
    """
    if download:
        try:
            path = resolve_sam_checkpoint(
                model_type, checkpoint, checkpoint_dir, environ, download=True, url=url
            )
        except DownloadError as err:
            reason = f"no checkpoint found and the download failed: {err}"
        else:
            return SamSegmenter(model_type=model_type, checkpoint=path, **sam_kwargs)
    else:
        found = find_sam_checkpoint(model_type, checkpoint, checkpoint_dir, environ)
        if found is not None:
            return SamSegmenter(model_type=model_type, checkpoint=found, **sam_kwargs)
        reason = "no checkpoint found and downloading is off"
    warnings.warn(
        f"no SAM {model_type} checkpoint could be had ({reason}); using the classical back end "
        f"{fallback!r} instead, and results are labelled {fallback!r}, not SAM",
        SegmenterFallbackWarning,
        stacklevel=2,
    )
    return get_segmenter(fallback)


def resolve_segmenter(
    name: str,
    checkpoint: Path | str | None = None,
    model_type: str = "vit_b",
    device: str | None = None,
    **kwargs: Any,
) -> Segmenter:
    """A back end by registry name with the command line's SAM options applied where they mean
    something (``--segmenter``, ``--sam-checkpoint``, ``--sam-model-type``, ``--device``).

    ``checkpoint``, ``model_type`` and ``device`` go to ``sam`` and ``auto``; a classical back
    end ignores ``model_type`` and ``device`` (it runs on the CPU) but refuses a checkpoint,
    which would otherwise be silently unused. ``kwargs`` go to the back end's constructor.

    Raises:
        SegmenterError: unknown name (listing the known ones) or a checkpoint for a classical
            back end.
    """
    entry = segmenter_entry(name)
    if entry.kind == "classical":
        if checkpoint is not None:
            raise SegmenterError(
                f"a SAM checkpoint ({checkpoint}) was given, but segmenter {name!r} is a "
                "classical back end that does not use one; use --segmenter sam or auto"
            )
        return entry.factory(**kwargs)
    return entry.factory(checkpoint=checkpoint, model_type=model_type, device=device, **kwargs)
