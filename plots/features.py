"""The classifier's feature maps at ``conv1``, ``layer1`` and ``layer2`` (the feature-map view of
the segmentation seed's section 2.4), next to the Grad-CAM each layer gives.

This is the one figure that runs a model: feature maps are not saved by the comparison.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from cam import GradCAM
from cam.overlay import overlay_heatmap
from evaluation.layers import resolve_layer
from plots.style import FULL_WIDTH, image_axis, new_figure, report_style, set_title
from shapes import CLASSES
from shapes.transforms import normalize_uint8

#: The layers shown, from the first convolution to the template's CAM layer.
FEATURE_LAYERS = ("conv1", "layer1", "layer2")


def capture_activations(
    model: nn.Module, image: np.ndarray, layers: Sequence[str] = FEATURE_LAYERS
) -> dict[str, Tensor]:
    """Outputs of the named layers for one image.

    Args:
        model: the ResNet-18 classifier (any module whose layers ``resolve_layer`` finds).
        image: uint8 RGB (H, W, 3).
        layers: layer names such as ``conv1`` or ``layer2[-1]``.

    Returns:
        {layer name: float32 CPU tensor (C, h, w)}.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
    modules = {name: resolve_layer(model, name) for name in layers}
    maps: dict[str, Tensor] = {}

    def hook_for(name: str):
        def hook(_module: nn.Module, _inputs: object, output: Tensor) -> None:
            maps[name] = output.detach()[0].float().cpu()

        return hook

    handles = [m.register_forward_hook(hook_for(n)) for n, m in modules.items()]
    try:
        device = next(model.parameters()).device
        model.eval()
        with torch.inference_mode():
            model(normalize_uint8(image[None]).to(device))
    finally:
        for h in handles:
            h.remove()
    return maps


def most_varied_channels(fmap: Tensor, n: int) -> list[int]:
    """The ``n`` channels of a (C, h, w) map with the largest spatial standard deviation."""
    std = fmap.flatten(1).std(dim=1)
    return torch.argsort(std, descending=True)[:n].tolist()


@report_style
def feature_maps_figure(
    model: nn.Module,
    image: np.ndarray,
    label: int | None = None,
    layers: Sequence[str] = FEATURE_LAYERS,
    n_maps: int = 8,
    description: str = "",
    width: float = FULL_WIDTH,
) -> Figure:
    """One row per layer: the Grad-CAM computed at that layer (over the image), then the
    ``n_maps`` most varied feature maps ("FM #<channel>", viridis, each scaled on its own).

    Args:
        model: the ResNet-18 classifier (not changed; put in eval mode).
        image: uint8 RGB (H, W, 3).
        label: the true class index, explained by the Grad-CAMs (None: the predicted class).
        layers: layer names, as accepted by ``evaluation.layers.resolve_layer``.
        n_maps: feature maps per row.
        description: names the image in the title, e.g. ``"test #3"``.
        width: figure width in inches.
    """
    if n_maps < 1:
        raise ValueError(f"n_maps must be >= 1, got {n_maps}")
    if not layers:
        raise ValueError("need at least one layer")
    maps = capture_activations(model, image, layers)
    device = next(model.parameters()).device
    x = normalize_uint8(np.asarray(image)[None]).to(device)
    targets = None if label is None else [int(label)]
    results = {
        name: GradCAM(model, [resolve_layer(model, name)]).compute(x, targets) for name in layers
    }
    cams = {name: r.heatmaps[0] for name, r in results.items()}
    first = results[layers[0]]  # logits and target are the same for every layer
    probs = torch.softmax(torch.from_numpy(first.logits[0]), dim=0)
    predicted, confidence = int(probs.argmax()), float(probs.max())
    explained = int(first.targets[0])
    cols = n_maps + 1
    panel = width / cols
    height, w = np.asarray(image).shape[:2]
    fig = new_figure(width, len(layers) * (panel * height / w + 0.22) + 0.55)
    axes = fig.subplots(len(layers), cols, squeeze=False)
    for r, name in enumerate(layers):
        fmap = maps[name]
        axes[r, 0].imshow(
            overlay_heatmap(np.asarray(image), cams[name], alpha=0.5), interpolation="nearest"
        )
        axes[r, 0].set_title("Grad-CAM here", fontsize=6)
        axes[r, 0].set_ylabel(
            f"{name}\n{fmap.shape[0]}×{fmap.shape[1]}×{fmap.shape[2]}", fontsize=7
        )
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
    pred_text = f"; predicted {CLASSES[predicted]} ({100 * confidence:.0f} %)"
    set_title(
        fig,
        f"ResNet-18 feature maps of {description}{pred_text}\n"
        f"left: Grad-CAM of {CLASSES[explained]} at that layer; "
        f"then the {n_maps} most varied channels",
    )
    return fig
