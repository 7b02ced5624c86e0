"""The seed's supervised segmenters: smp FPN / PSPNet with one sigmoid output channel.

Every model here takes ImageNet-normalised float images (B, 3, H, W) of any size: inputs are
optionally enlarged by an integer ``input_scale`` (bilinear), zero-padded symmetrically to the
encoder's output stride, and the output logits are cropped and averaged back to (H, W).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import numpy as np
import segmentation_models_pytorch as smp
import torch
import torchinfo
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import LocalEntryNotFoundError
from segmentation_models_pytorch.encoders import encoders as smp_encoders
from torch import Tensor, nn
from torch.nn import functional as F

from common.lookup import lookup
from shapes.transforms import normalize_uint8


@dataclass(frozen=True)
class ModelSpec:
    """An smp architecture (``"FPN"`` or ``"PSPNet"``) with an encoder name."""

    arch: str
    encoder: str


MODEL_SPECS: dict[str, ModelSpec] = {
    "fpn_resnet50": ModelSpec("FPN", "resnet50"),
    "fpn_vgg19": ModelSpec("FPN", "vgg19"),
    "pspnet_resnet50": ModelSpec("PSPNet", "resnet50"),
}


def model_spec(name: str) -> ModelSpec:
    """The spec of a model name; raises ``KeyError`` naming the closest and the known names."""
    return lookup(name, MODEL_SPECS, "supervised model", error=KeyError)


def _hub_files(encoder: str, weights: str) -> tuple[str, str]:
    settings = smp_encoders[encoder]["pretrained_settings"]
    if weights not in settings:
        raise KeyError(f"encoder {encoder!r} has no {weights!r} weights; has {sorted(settings)}")
    return settings[weights]["repo_id"], settings[weights]["revision"]


def _fetch_weights(encoder: str, weights: str, local_only: bool) -> None:
    repo_id, revision = _hub_files(encoder, weights)
    for filename in ("config.json", "model.safetensors"):
        hf_hub_download(repo_id, filename=filename, revision=revision, local_files_only=local_only)


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def resolve_encoder_weights(
    name: str, requested: str | None, allow_download: bool = True
) -> tuple[str | None, str]:
    """Decide which encoder weights (``requested``: ``"imagenet"`` or None for from scratch)
    model ``name`` can start from on this machine: the Hugging Face cache, else (with
    ``allow_download``) a download if ``huggingface.co`` answers within 3 s.

    Returns:
        (weights to pass to smp -- ``requested`` or None --, a one-line note for the output).
    """
    encoder = model_spec(name).encoder
    if requested is None:
        return None, f"{name}: encoder from scratch (no pretrained weights requested)"
    _hub_files(encoder, requested)  # validates the name before any I/O
    try:
        _fetch_weights(encoder, requested, local_only=True)
        return requested, f"{name}: {requested} encoder weights (from the local cache)"
    except LocalEntryNotFoundError:
        pass
    if allow_download and _hub_reachable():
        try:
            _fetch_weights(encoder, requested, local_only=False)
            return requested, f"{name}: {requested} encoder weights (downloaded)"
        except (OSError, LocalEntryNotFoundError) as exc:
            reason = f"download failed: {exc}"
    else:
        reason = "not cached and huggingface.co is unreachable (offline)"
    note = f"{name}: {requested} encoder weights unavailable ({reason}); training from scratch"
    return None, note


def build_model(
    name: str,
    encoder_weights: str | None = None,
    encoder_depth: int | None = None,
    input_scale: int = 1,
) -> nn.Module:
    """An smp model with one output channel and a sigmoid activation.

    Args:
        name: a key of ``MODEL_SPECS`` (``fpn_resnet50``, ``fpn_vgg19``, ``pspnet_resnet50``).
        encoder_weights: passed to smp (``"imagenet"``: see :func:`resolve_encoder_weights`);
            None = random initialisation.
        encoder_depth: number of encoder stages; None keeps smp's default (5 for FPN, 3 for
            PSPNet). Smaller depths make tiny test models.
        input_scale: integer factor by which :func:`forward_logits` enlarges images (stored as
            ``model.input_scale``).
    """
    if int(input_scale) != input_scale or input_scale < 1:
        raise ValueError(f"input_scale must be a positive integer, got {input_scale!r}")
    spec = model_spec(name)
    options = {"encoder_name": spec.encoder, "encoder_weights": encoder_weights, "classes": 1}
    if encoder_depth is not None:
        options["encoder_depth"] = encoder_depth
    model = getattr(smp, spec.arch)(activation="sigmoid", **options)
    model.input_scale = int(input_scale)
    return model


def model_input_scale(model: nn.Module) -> int:
    """The factor :func:`forward_logits` enlarges inputs by (1 for models built elsewhere)."""
    return int(getattr(model, "input_scale", 1))


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (all of them are trainable here)."""
    return sum(p.numel() for p in model.parameters())


def input_multiple(model: nn.Module) -> int:
    """The multiple that input height and width must have (the encoder's output stride)."""
    if not getattr(model, "requires_divisible_input_shape", True):
        return 1
    return int(model.encoder.output_stride)  # type: ignore[union-attr]


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def padded_size(model: nn.Module, hw: tuple[int, int]) -> tuple[int, int]:
    """(H, W) times :func:`model_input_scale`, rounded up to :func:`input_multiple` -- the size the
    network really sees."""
    m, s = input_multiple(model), model_input_scale(model)
    return (_round_up(hw[0] * s, m), _round_up(hw[1] * s, m))


def pad_input(model: nn.Module, x: Tensor) -> tuple[Tensor, tuple[int, int]]:
    """Zero-pad ``x`` (B, C, H, W), already enlarged by the input scale, symmetrically to the
    next multiple of :func:`input_multiple`: (padded tensor, (top, left) offsets of ``x``)."""
    h, w = x.shape[-2:]
    m = input_multiple(model)
    ph, pw = _round_up(h, m), _round_up(w, m)
    top, left = (ph - h) // 2, (pw - w) // 2
    if (ph, pw) == (h, w):
        return x, (0, 0)
    return F.pad(x, (left, pw - w - left, top, ph - h - top)), (top, left)


def network_input(model: nn.Module, x: Tensor) -> tuple[Tensor, tuple[int, int, int, int]]:
    """What the network really sees for images (B, C, H, W): enlarged :func:`model_input_scale`
    times (bilinear), then zero-padded by :func:`pad_input`. Returns (tensor (B, C,
    :func:`padded_size`), (top, left, height, width) of the enlarged images inside it)."""
    scale = model_input_scale(model)
    if scale != 1:
        x = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    xp, (top, left) = pad_input(model, x)
    return xp, (top, left, *x.shape[-2:])


def forward_logits(model: nn.Module, x: Tensor) -> Tensor:
    """Pre-sigmoid logits (B, H, W) for normalised images (B, 3, H, W) of any size.

    smp's encoder -> decoder -> segmentation head without the head's final sigmoid
    ``Activation``, on :func:`network_input`; the logits are cropped back and, at input scale
    s, averaged over s x s blocks to (H, W).
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected images of shape (B, 3, H, W), got {tuple(x.shape)}")
    xp, (top, left, h, w) = network_input(model, x)
    out = model.decoder(model.encoder(xp))  # type: ignore[union-attr,operator]
    for layer in list(model.segmentation_head)[:-1]:  # type: ignore[union-attr]
        out = layer(out)
    out = out[:, :, top : top + h, left : left + w]
    scale = model_input_scale(model)
    if scale != 1:
        out = F.avg_pool2d(out, scale)
    return out[:, 0]


def predict_masks(
    model: nn.Module, images: np.ndarray, batch_size: int = 64, bf16: bool = False
) -> np.ndarray:
    """bool (N, H, W) foreground masks (sigmoid > 0.5) of uint8 RGB images (N, H, W, 3),
    predicted by ``model`` (switched to eval mode) in batches, without gradients, on the
    model's device; ``bf16`` under bfloat16 autocast (the per-epoch val selection)."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8 (N, H, W, 3), got {images.dtype} {tuple(images.shape)}"
        )
    dev = next(model.parameters()).device
    model.eval()
    out = np.zeros(images.shape[:3], dtype=bool)
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            x = normalize_uint8(images[start : start + batch_size]).to(dev)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                logits = forward_logits(model, x)
            out[start : start + batch_size] = (logits > 0).cpu().numpy()
    return out


def model_summary(model: nn.Module, image_hw: tuple[int, int] = (48, 64), depth: int = 3) -> str:
    """torchinfo's layer summary (as in the seed) for one padded image of size ``image_hw``."""
    ph, pw = padded_size(model, image_hw)
    device = next(model.parameters()).device
    return str(torchinfo.summary(model, (1, 3, ph, pw), depth=depth, verbose=0, device=device))
