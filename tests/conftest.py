"""Shared fixtures: a tiny randomly initialised SAM (no checkpoint needed) and builtin backgrounds.

``tiny_sam`` is :func:`sam_pipelines.tiny_sam.build_tiny_sam`: segment_anything's own modules
at a tiny size, so ``SamPredictor`` runs its real code path (see that module).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from segment_anything.modeling import Sam

from sam_pipelines.tiny_sam import TINY_SAM_IMG_SIZE, build_tiny_sam

__all__ = ["TINY_SAM_IMG_SIZE", "build_tiny_sam"]


@pytest.fixture
def tiny_sam() -> Iterator[Sam]:
    """A fresh tiny random SAM (see the module docstring); cheap, so one per test.

    Torch runs single-threaded while the test uses it: on this shared 2-core machine, the
    default 2 threads make each of the tiny model's small ops wait for a busy core (measured
    about 1.3 s instead of 7 ms per image under load).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield build_tiny_sam()
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def tiny_sam_segmenter(tiny_sam: Sam):
    """The ``sam`` back end around ``tiny_sam`` on the CPU (model id ``"tiny-sam"``)."""
    from sam_pipelines import SamSegmenter

    return SamSegmenter(model=tiny_sam, model_id="tiny-sam", device="cpu")


@pytest.fixture(scope="session")
def builtin_backgrounds():
    """``shapes.backgrounds.load_backgrounds("builtin")``, loaded once per session (~1 s)."""
    from shapes.backgrounds import load_backgrounds

    return load_backgrounds("builtin")
