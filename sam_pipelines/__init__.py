"""SAM pipelines and segmenter back ends.

Pipelines (the assignment's contract, see :mod:`sam_pipelines.pipeline`):
``BasicSamPipeline(predictor)``, and the two approaches ``ForegroundPointsPipeline`` and
``ForegroundBackgroundPointsPipeline`` (``(predictor, grad_cam)``, see
:mod:`sam_pipelines.approaches`).

Back ends (a registry; every one has ``SamPredictor``'s ``set_image`` / ``predict``):
``get_segmenter("sam" | "flood_fill" | "random_walker" | "watershed" | "auto", **kwargs)``,
``list_segmenters()``. Importing the package registers them all; ``segment-anything`` is
imported only when the ``sam`` back end is built.
"""

from sam_pipelines import flood_fill, random_walker, watershed  # noqa: F401  (registers them)
from sam_pipelines.approaches import ForegroundBackgroundPointsPipeline, ForegroundPointsPipeline
from sam_pipelines.auto import (
    BEST_CLASSICAL,
    SegmenterFallbackWarning,
    auto_segmenter,
    resolve_segmenter,
)
from sam_pipelines.checkpoint import (
    SAM_CHECKPOINTS,
    DownloadError,
    SamCheckpointError,
    default_checkpoint_path,
    find_sam_checkpoint,
    resolve_sam_checkpoint,
    sam_checkpoint_available,
)
from sam_pipelines.classical_base import ClassicalSegmenter
from sam_pipelines.embedding_cache import EmbeddingCache
from sam_pipelines.flood_fill import FloodFillSegmenter
from sam_pipelines.pipeline import (
    BasicSamPipeline,
    ImageSegmentation,
    segment_image,
    segmenter_name,
)
from sam_pipelines.random_walker import RandomWalkerSegmenter
from sam_pipelines.registry import (
    Segmenter,
    SegmenterError,
    get_segmenter,
    list_segmenters,
    register_segmenter,
    segmenter_entry,
    unregister_segmenter,
)
from sam_pipelines.sam_backend import SamSegmenter, load_sam
from sam_pipelines.selection import MASK_SELECTIONS, select_mask
from sam_pipelines.watershed import WatershedSegmenter

__all__ = [
    "BEST_CLASSICAL",
    "MASK_SELECTIONS",
    "SAM_CHECKPOINTS",
    "BasicSamPipeline",
    "ClassicalSegmenter",
    "DownloadError",
    "EmbeddingCache",
    "FloodFillSegmenter",
    "ForegroundBackgroundPointsPipeline",
    "ForegroundPointsPipeline",
    "ImageSegmentation",
    "RandomWalkerSegmenter",
    "SamCheckpointError",
    "SamSegmenter",
    "Segmenter",
    "SegmenterError",
    "SegmenterFallbackWarning",
    "WatershedSegmenter",
    "auto_segmenter",
    "default_checkpoint_path",
    "find_sam_checkpoint",
    "get_segmenter",
    "list_segmenters",
    "load_sam",
    "register_segmenter",
    "resolve_sam_checkpoint",
    "resolve_segmenter",
    "sam_checkpoint_available",
    "segment_image",
    "segmenter_entry",
    "segmenter_name",
    "select_mask",
    "unregister_segmenter",
]
