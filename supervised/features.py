"""Feature maps inside a segmenter (the seed's section 2.4), captured with forward hooks."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from shapes.transforms import normalize_uint8
from supervised.models import network_input


def _executed_convs(model: nn.Module, image_hw: tuple[int, int]) -> list[tuple[str, nn.Module]]:
    """The encoder's Conv2d layers in the order a dummy forward pass runs them (smp keeps the
    unused stages of a shallow encoder, so registration order is not enough)."""
    named = [(n, m) for n, m in model.encoder.named_modules() if isinstance(m, nn.Conv2d)]  # type: ignore[union-attr]
    order: list[int] = []
    handles = [
        m.register_forward_hook(lambda *_a, i=i: order.append(i)) for i, (_, m) in enumerate(named)
    ]
    try:
        device = next(model.parameters()).device
        x, _ = network_input(model, torch.zeros(1, 3, *image_hw, device=device))
        was_training = model.training
        model.eval()
        with torch.inference_mode():
            model.encoder(x)  # type: ignore[operator,union-attr]
        model.train(was_training)
    finally:
        for h in handles:
            h.remove()
    return [named[i] for i in order]


def feature_layers(
    model: nn.Module, image_hw: tuple[int, int] = (48, 64)
) -> dict[str, tuple[str, nn.Module]]:
    """The three layers the seed looks at, as {title: (module path, module)}: ``encoder first
    layer`` and ``encoder last layer`` (the first and last convolution the encoder runs, e.g.
    ResNet ``conv1`` and ``layer4.2.conv3``), ``decoder last block`` (FPN's
    ``decoder.seg_blocks[-1]``, the seed's ``seg_blocks[3]``, or PSPNet's ``decoder.conv``).
    ``image_hw`` is the size of the dummy pass that orders the encoder's convolutions.
    """
    enc = _executed_convs(model, image_hw)
    decoder = model.decoder  # type: ignore[union-attr]
    if hasattr(decoder, "seg_blocks"):  # FPN
        dec = (f"decoder.seg_blocks.{len(decoder.seg_blocks) - 1}", decoder.seg_blocks[-1])
    else:  # PSPNet
        dec = ("decoder.conv", decoder.conv)
    return {
        "encoder first layer": (f"encoder.{enc[0][0]}", enc[0][1]),
        "encoder last layer": (f"encoder.{enc[-1][0]}", enc[-1][1]),
        "decoder last block": dec,
    }


def check_rgb(image: np.ndarray) -> np.ndarray:
    """``image`` as a numpy array, checked to be uint8 RGB (H, W, 3)."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
    return image


def layer_outputs(model: nn.Module, modules: dict[str, nn.Module], x: Tensor) -> dict[str, Tensor]:
    """Run ``model(x)`` once (eval mode, no autograd) with forward hooks on ``modules``.

    Returns:
        {name: the output of ``modules[name]`` for the first image, float32 (C, h, w) on the CPU}.
    """
    maps: dict[str, Tensor] = {}

    def hook_for(name: str):
        def hook(_module: nn.Module, _inputs: object, output: Tensor) -> None:
            maps[name] = output.detach()[0].float().cpu()

        return hook

    handles = [module.register_forward_hook(hook_for(n)) for n, module in modules.items()]
    try:
        model.eval()
        with torch.inference_mode():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return maps


def capture_feature_maps(model: nn.Module, image: np.ndarray) -> dict[str, Tensor]:
    """Run one uint8 RGB image (H, W, 3) through ``model`` (enlarged by its input scale and
    padded, as in prediction: :func:`supervised.models.network_input`).

    Returns:
        {title of :func:`feature_layers`: float tensor (C, h, w) on the CPU}; the maps cover
        the network's input, so their grid is :func:`supervised.models.padded_size` / the
        layer's stride.
    """
    image = check_rgb(image)
    layers = feature_layers(model, image.shape[:2])
    device = next(model.parameters()).device
    x, _ = network_input(model, normalize_uint8(image[None]).to(device))
    return layer_outputs(model, {t: module for t, (_, module) in layers.items()}, x)
