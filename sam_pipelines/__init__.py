"""SAM pipelines and segmenter back ends.

Pipelines (the assignment's contract, see :mod:`sam_pipelines.pipeline`):
``BasicSamPipeline(predictor)``, and the two approaches ``ForegroundPointsPipeline`` and
``ForegroundBackgroundPointsPipeline`` (``(predictor, grad_cam)``, see
:mod:`sam_pipelines.approaches`).

Back ends (every one has ``SamPredictor``'s ``set_image`` / ``predict``, see
:mod:`sam_pipelines.segmenters`): ``make_segmenter("sam" | "flood_fill" | "random_walker" |
"watershed" | "auto", ...)``, listed in ``SEGMENTERS``; the classes are ``SamSegmenter`` and
the classical ones in :mod:`sam_pipelines.flood_fill`, :mod:`sam_pipelines.random_walker` and
:mod:`sam_pipelines.watershed`. ``segment-anything`` is imported only when the ``sam`` back end
is built. Finding and downloading its checkpoint: :mod:`sam_pipelines.checkpoint`.
"""

from sam_pipelines.approaches import ForegroundBackgroundPointsPipeline, ForegroundPointsPipeline
from sam_pipelines.checkpoint import SamCheckpointError
from sam_pipelines.checks import SegmenterError
from sam_pipelines.pipeline import BasicSamPipeline, segment_image, segmenter_name
from sam_pipelines.sam_backend import SamSegmenter
from sam_pipelines.segmenters import SEGMENTERS, back_end, make_segmenter
from sam_pipelines.selection import MASK_SELECTIONS

__all__ = [
    "MASK_SELECTIONS",
    "SEGMENTERS",
    "BasicSamPipeline",
    "ForegroundBackgroundPointsPipeline",
    "ForegroundPointsPipeline",
    "SamCheckpointError",
    "SamSegmenter",
    "SegmenterError",
    "back_end",
    "make_segmenter",
    "segment_image",
    "segmenter_name",
]
