"""Class activation maps: Grad-CAM and its relatives, from scratch in PyTorch.

``GradCAM(model, target_layers)(images, targets=None)`` returns a float32 numpy array (B, H, W)
in 0..1; GradCAM++ and LayerCAM share `cam.base.BaseCAM`. Colour helpers: `cam.overlay`; the
template's figure: `cam.visualize.gradcam_figure` (imports matplotlib, so not imported here).
"""

from cam.base import BaseCAM, CAMResult
from cam.methods import GradCAM, GradCAMPlusPlus, LayerCAM
from cam.overlay import heatmap_to_rgb, overlay_heatmap

__all__ = [
    "BaseCAM",
    "CAMResult",
    "GradCAM",
    "GradCAMPlusPlus",
    "LayerCAM",
    "heatmap_to_rgb",
    "overlay_heatmap",
]
