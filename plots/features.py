"""Feature-map figures (the seed's section 2.4): one grid, :func:`feature_map_grid`, for the
classifier (next to the Grad-CAM each layer gives) and for a supervised segmentation model (next
to its input). These are the figures that run a model: the comparison saves no feature maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from cam import GradCAM
from cam.overlay import overlay_heatmap
from classifier.layers import resolve_layer
from plots.style import FULL_WIDTH, image_axis, new_figure, report_style, set_title
from shapes import CLASSES
from shapes.transforms import IMAGENET_MEAN, normalize_uint8
from supervised.features import capture_feature_maps, check_rgb, feature_layers, layer_outputs
from supervised.models import network_input

#: The classifier's layers shown, from the first convolution to the template's CAM layer.
FEATURE_LAYERS = ("conv1", "layer1", "layer2")


class FeatureRow(NamedTuple):
    """One row of :func:`feature_map_grid`: the y ``label`` (the layer; its maps' shape C×h×w is
    added under it), the RGB image (H, W, 3) shown ``first`` (uint8 or float in 0..1) with its
    title, and the layer's float (C, h, w) feature ``maps``."""

    label: str
    first: np.ndarray
    first_title: str
    maps: Tensor


@report_style
def feature_map_grid(rows: Sequence[FeatureRow], n_maps: int, title: str) -> Figure:
    """One row per layer: its ``first`` image, then the ``n_maps`` channels with the largest
    spatial standard deviation (the most structured: a from-scratch network has many flat ones),
    as "FM #<channel>", viridis, each scaled on its own.

    Raises:
        ValueError: ``n_maps`` < 1 or no row.
    """
    if n_maps < 1:
        raise ValueError(f"n_maps must be >= 1, got {n_maps}")
    if not rows:
        raise ValueError("need at least one layer")
    panel = FULL_WIDTH / (n_maps + 1)
    height, w = rows[0].first.shape[:2]
    fig = new_figure(FULL_WIDTH, len(rows) * (panel * height / w + 0.22) + 0.55)
    axes = fig.subplots(len(rows), n_maps + 1, squeeze=False)
    for r, row in enumerate(rows):
        fmap = row.maps
        axes[r, 0].imshow(row.first, interpolation="nearest")
        axes[r, 0].set_title(row.first_title, fontsize=6)
        shape = f"{fmap.shape[0]}×{fmap.shape[1]}×{fmap.shape[2]}"
        axes[r, 0].set_ylabel(f"{row.label}\n{shape}", fontsize=7)
        channels = torch.argsort(fmap.flatten(1).std(dim=1), descending=True)[:n_maps].tolist()
        for ax, ch in zip(axes[r, 1:], channels, strict=False):
            ax.imshow(fmap[ch].numpy(), cmap="viridis", interpolation="nearest")
            ax.set_title(f"FM #{ch}", fontsize=6)
        for ax in axes[r, 1 + len(channels) :]:
            ax.set_axis_off()
        for ax in axes[r]:
            image_axis(ax)
    set_title(fig, title)
    return fig


def feature_maps_figure(
    model: nn.Module,
    image: np.ndarray,
    label: int | None = None,
    n_maps: int = 8,
    description: str = "",
) -> Figure:
    """The classifier's :func:`feature_map_grid`: per layer of :data:`FEATURE_LAYERS`, the
    Grad-CAM of class ``label`` (None: the predicted class) computed at that layer over the
    uint8 RGB (H, W, 3) image, then its ``n_maps`` most varied feature maps. ``model`` (the
    ResNet-18 classifier) is put in eval mode; ``description`` names the image in the title,
    e.g. ``"test #3"``."""
    x = normalize_uint8(check_rgb(image)[None]).to(next(model.parameters()).device)
    modules = {name: resolve_layer(model, name) for name in FEATURE_LAYERS}
    maps = layer_outputs(model, modules, x)
    targets = None if label is None else [int(label)]
    cams = {name: GradCAM(model, [m]).compute(x, targets) for name, m in modules.items()}
    first = cams[FEATURE_LAYERS[0]]  # logits and target are the same for every layer
    probs = torch.softmax(torch.from_numpy(first.logits[0]), dim=0)
    overlays = {name: overlay_heatmap(image, c.heatmaps[0], alpha=0.5) for name, c in cams.items()}
    rows = [FeatureRow(n, overlays[n], "Grad-CAM here", maps[n]) for n in FEATURE_LAYERS]
    title = (
        f"ResNet-18 feature maps of {description}; predicted {CLASSES[int(probs.argmax())]} "
        f"({100 * float(probs.max()):.0f} %)\nleft: Grad-CAM of {CLASSES[int(first.targets[0])]} "
        f"at that layer; then the {n_maps} most varied channels"
    )
    return feature_map_grid(rows, n_maps, title)


def segmenter_feature_maps_figure(
    model: nn.Module, image: np.ndarray, n_maps: int = 12, title: str = ""
) -> Figure:
    """A supervised segmentation model's :func:`feature_map_grid`: per layer of
    :func:`supervised.feature_layers` (encoder first and last layer, decoder last block), the
    network's input (enlarged by its input scale and padded, as in prediction), then the layer's
    ``n_maps`` most varied feature maps, for a model from :func:`supervised.build_model` and a
    uint8 RGB (H, W, 3) image.
    """
    image = check_rgb(image)
    maps = capture_feature_maps(model, image)
    paths = {t: p for t, (p, _) in feature_layers(model, image.shape[:2]).items()}
    # the network's zero padding is the ImageNet mean colour in pixel space
    pixels = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    padded, _ = network_input(model, pixels - mean)
    shown = (padded[0] + mean[0]).permute(1, 2, 0).clamp(0, 1).numpy()
    rows = [FeatureRow(f"{name}\n{paths[name]}", shown, "input", m) for name, m in maps.items()]
    return feature_map_grid(rows, n_maps, title)
