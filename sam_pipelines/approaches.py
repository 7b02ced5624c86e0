"""The assignment's two approaches: CAM heat map -> point prompts -> SAM, as ``BasicSamPipeline``
subclasses that override ``__call__`` only (same signature).

Both find the shape the heat map points at with :func:`prompting.image_aware.multiscale_heat`:
the image is cut into Felzenszwalb segments at three scales, each segment scored by its mean
heat times how shape-like it is (a sharp colour step along its outline, little variation
inside, a plausible size, compact), and the best segment's most interior pixel is the
foreground point. The single-scale ``segment_heat`` loses the faint shapes that the finer
scales cut out (docs/stress_suite.md; README, "Results on the stress suite"). Example::

    heat_map = LayerCAM(model, [model.layer2[-1]], offset=(dx, dy))  # the notebook's
    # (dx, dy): prompting.calibration.measured_heat_offset; GradCAM works too
    approach_1 = ForegroundPointsPipeline(predictor, heat_map)
    masks = approach_1(images)  # bool (B, H, W)

The submission notebook inlines this module (and the modules it imports).
"""

from __future__ import annotations

from torch import Tensor

from prompting.image_aware import multiscale_heat
from prompting.points import points_for_batch
from sam_pipelines.pipeline import BasicSamPipeline
from shapes.transforms import to_uint8_images


class ForegroundPointsPipeline(BasicSamPipeline):
    """Approach 1: one foreground point inside the segment that the heat map and the image agree
    on (:func:`prompting.image_aware.multiscale_heat`), no background point."""

    def __call__(self, images: Tensor) -> Tensor:
        """Segment a normalised batch (B, 3, H, W) without user input: bool (B, H, W), CPU."""
        cams = self.heatmaps(images)
        coords, labels = points_for_batch(multiscale_heat, cams, to_uint8_images(images))
        return self.segment(images, coords, labels)


class ForegroundBackgroundPointsPipeline(BasicSamPipeline):
    """Approach 2: approach 1's foreground point plus one background point far from the chosen
    segment, where the heat is low and no other shape-like segment lies."""

    def __call__(self, images: Tensor) -> Tensor:
        """Segment a normalised batch (B, 3, H, W) without user input: bool (B, H, W), CPU."""
        cams = self.heatmaps(images)
        coords, labels = points_for_batch(multiscale_heat, cams, to_uint8_images(images), n_bg=1)
        return self.segment(images, coords, labels)
