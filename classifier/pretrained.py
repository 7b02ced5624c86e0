"""Finding ImageNet weights for ResNet-18: the torch hub cache first, then a download."""

from __future__ import annotations

import socket
from pathlib import Path

import torch
import torchvision

WEIGHTS = torchvision.models.ResNet18_Weights.IMAGENET1K_V1


def cached_weights_path() -> Path:
    """Where torchvision keeps the ImageNet ResNet-18 file (``<torch hub dir>/checkpoints/``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(WEIGHTS.url).name


def find_imagenet_weights(try_download: bool = True, timeout_s: float = 10.0) -> tuple[bool, str]:
    """Make the ImageNet ResNet-18 weights available if possible (downloading them into the
    torch hub cache with ``try_download``, socket timeout ``timeout_s``).

    Returns:
        (available, note): whether ``build_classifier(imagenet_weights=True)`` will work without
        the network, and a one-line explanation (the cache path or the download error).
    """
    path = cached_weights_path()
    if path.is_file():
        return True, f"ImageNet weights found at {path}"
    if not try_download:
        return False, f"no ImageNet weights at {path} (download not attempted)"
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout_s)
    try:
        WEIGHTS.get_state_dict(progress=False, check_hash=True)
    except (OSError, RuntimeError, ValueError) as exc:  # URLError / hash mismatch
        if path.exists():
            path.unlink()  # a partial download must not count as available
        return False, f"ImageNet weights unavailable ({type(exc).__name__}: {exc})"
    finally:
        socket.setdefaulttimeout(previous)
    return True, f"ImageNet weights downloaded to {path}"
