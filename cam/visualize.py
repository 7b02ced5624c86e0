"""The figure for the template's Grad-CAM check: input, heat map, overlay, ground-truth mask."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from cam.overlay import heatmap_to_rgb, overlay_heatmap

COLUMN_TITLES = ("Input image", "Grad-CAM heatmap", "Overlay", "Ground-truth mask")


def gradcam_figure(
    images: np.ndarray,
    heatmaps: np.ndarray,
    masks: np.ndarray,
    titles: Sequence[str] | None = None,
    alpha: float = 0.3,
    panel_size: float = 3.0,
    heatmap_name: str = "Grad-CAM",
) -> Figure:
    """One row per example with the template's four panels (its ``example_gradcam`` cell): input
    image, heat map in JET colours (0 = blue, 1 = red), overlay (``alpha`` of the heat map colour
    over the image) and ground-truth mask.

    Args:
        images: uint8 RGB (N, H, W, 3); heatmaps: float (N, H, W) in 0..1; masks: bool (N, H, W).
        titles: one label per row (e.g. "test #3: diamond"), shown left of the row; optional.
        panel_size: width of one panel in inches.
        heatmap_name: the method named in the heat-map column's title (``COLUMN_TITLES`` with
            the default, the template's).

    Returns:
        A matplotlib Figure (not attached to pyplot; save it with ``fig.savefig(path)``).
    """
    images, heatmaps, masks = np.asarray(images), np.asarray(heatmaps), np.asarray(masks)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
    for name, array in (("heatmaps", heatmaps), ("masks", masks)):
        if array.shape != images.shape[:3]:
            raise ValueError(f"{name} shape {array.shape} != images' (N, H, W) {images.shape[:3]}")
    count, height, width = images.shape[:3]
    if count == 0:
        raise ValueError("need at least one example")
    if titles is not None and len(titles) != count:
        raise ValueError(f"got {len(titles)} titles for {count} examples")

    size = (panel_size * 4, panel_size * height / width * count + 0.4)
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(count, 4, squeeze=False)
    colours = heatmap_to_rgb(heatmaps)
    overlays = overlay_heatmap(images, heatmaps, alpha=alpha)
    column_titles = (COLUMN_TITLES[0], f"{heatmap_name} heatmap", *COLUMN_TITLES[2:])
    for row in range(count):
        panels = (images[row], colours[row], overlays[row], masks[row].astype(bool))
        for col, panel in enumerate(panels):
            ax = axes[row, col]
            ax.imshow(panel, interpolation="nearest")
            ax.set(xticks=[], yticks=[])
            ax.spines[:].set_visible(False)
            if row == 0:
                ax.set_title(column_titles[col])
        if titles is not None:
            axes[row, 0].set_ylabel(titles[row])
    return fig
