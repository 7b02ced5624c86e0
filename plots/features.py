"""Feature-map figures (the seed's section 2.4): one generic grid, :func:`feature_map_grid`, used
for the classifier (:func:`feature_maps_figure`, next to the Grad-CAM each layer gives) and for
a supervised segmentation model (:func:`segmenter_feature_maps_figure`, next to the input).

These are the figures that run a model: feature maps are not saved by the comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class FeatureRow:
    """One row of :func:`feature_map_grid`.

    Attributes:
        label: the row's y label (the layer); the maps' shape C×h×w is added under it.
        first: RGB image (H, W, 3), uint8 or float in 0..1, shown in the first column.
        first_title: the first column's title.
        maps: float (C, h, w) feature maps of the layer.
    """

    label: str
    first: np.ndarray
    first_title: str
    maps: Tensor


def most_varied_channels(fmap: Tensor, n: int) -> list[int]:
    """The ``n`` channels of a (C, h, w) map with the largest spatial standard deviation (the
    most structured ones; a from-scratch network has many flat channels)."""
    std = fmap.flatten(1).std(dim=1)
    return torch.argsort(std, descending=True)[:n].tolist()


@report_style
def feature_map_grid(rows: Sequence[FeatureRow], n_maps: int, title: str) -> Figure:
    """One row per layer: its ``first`` image, then the ``n_maps`` most varied feature maps
    ("FM #<channel>", viridis, each scaled on its own).

    Raises:
        ValueError: ``n_maps`` < 1 or no row.
    """
    if n_maps < 1:
        raise ValueError(f"n_maps must be >= 1, got {n_maps}")
    if not rows:
        raise ValueError("need at least one layer")
    cols = n_maps + 1
    panel = FULL_WIDTH / cols
    height, w = rows[0].first.shape[:2]
    fig = new_figure(FULL_WIDTH, len(rows) * (panel * height / w + 0.22) + 0.55)
    axes = fig.subplots(len(rows), cols, squeeze=False)
    for r, row in enumerate(rows):
        fmap = row.maps
        axes[r, 0].imshow(row.first, interpolation="nearest")
        axes[r, 0].set_title(row.first_title, fontsize=6)
        shape = f"{fmap.shape[0]}×{fmap.shape[1]}×{fmap.shape[2]}"
        axes[r, 0].set_ylabel(f"{row.label}\n{shape}", fontsize=7)
        channels = most_varied_channels(fmap, n_maps)
        for c in range(1, cols):
            ax = axes[r, c]
            if c - 1 < len(channels):
                ch = channels[c - 1]
                ax.imshow(fmap[ch].numpy(), cmap="viridis", interpolation="nearest")
                ax.set_title(f"FM #{ch}", fontsize=6)
            else:
                ax.set_axis_off()
        for ax in axes[r]:
            image_axis(ax)
    set_title(fig, title)
    return fig


def capture_activations(
    model: nn.Module, image: np.ndarray, layers: Sequence[str] = FEATURE_LAYERS
) -> dict[str, Tensor]:
    """{layer name (``conv1``, ``layer2[-1]``): float32 CPU tensor (C, h, w)}: the outputs of
    the classifier's named layers for one uint8 RGB image (H, W, 3)."""
    x = normalize_uint8(check_rgb(image)[None]).to(next(model.parameters()).device)
    return layer_outputs(model, {n: resolve_layer(model, n) for n in layers}, x)


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
    layers = FEATURE_LAYERS
    maps = capture_activations(model, image, layers)
    device = next(model.parameters()).device
    x = normalize_uint8(np.asarray(image)[None]).to(device)
    targets = None if label is None else [int(label)]
    cams = {n: GradCAM(model, [resolve_layer(model, n)]).compute(x, targets) for n in layers}
    first = cams[layers[0]]  # logits and target are the same for every layer
    probs = torch.softmax(torch.from_numpy(first.logits[0]), dim=0)
    predicted, confidence = int(probs.argmax()), float(probs.max())
    rows = [
        FeatureRow(
            name,
            overlay_heatmap(np.asarray(image), cams[name].heatmaps[0], alpha=0.5),
            "Grad-CAM here",
            maps[name],
        )
        for name in layers
    ]
    title = (
        f"ResNet-18 feature maps of {description}; predicted {CLASSES[predicted]} "
        f"({100 * confidence:.0f} %)\nleft: Grad-CAM of {CLASSES[int(first.targets[0])]} at "
        f"that layer; then the {n_maps} most varied channels"
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
