"""SAM pipelines and segmenter back ends.

Pipelines (the assignment's contract): ``BasicSamPipeline(predictor)`` and the two approaches
``ForegroundPointsPipeline`` and ``ForegroundBackgroundPointsPipeline`` (``(predictor,
grad_cam)``). Back ends with ``SamPredictor``'s ``set_image`` / ``predict``:
``make_segmenter(name)`` for a name in ``SEGMENTERS``; ``segment-anything`` is imported only
when the ``sam`` back end is built.
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
