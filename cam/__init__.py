"""Class activation maps: Grad-CAM and its relatives, from scratch in PyTorch.

``from cam import GradCAM``; ``GradCAM(model, target_layers)(images, targets=None)`` returns a
float32 numpy array (B, H, W) in 0..1. GradCAM++ and LayerCAM share the same base
(`cam.base.BaseCAM`, beside `minmax_normalize` and `upsample_bilinear`). Colour helpers live in
`cam.overlay`; the figure for the template's check is `cam.visualize.gradcam_figure` (imports
matplotlib, so it is not imported here).
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
