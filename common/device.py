"""The torch device of a script's ``--device`` option (default ``auto``): ``auto`` (CUDA when
available, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``."""

from __future__ import annotations

import re

import torch

from common.errors import UserError

#: What ``--device`` accepts.
DEVICE_CHOICES = "auto | cpu | cuda | cuda:N"
_SPEC = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """The ``torch.device`` named by ``spec``: ``"auto"`` (or None: ``cuda`` when available,
    else ``cpu``), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a ``torch.device``.

    Raises:
        common.UserError: ``spec`` is none of these, or asks for a CUDA device this machine
            does not have; the message names it.
    """
    text = "auto" if spec is None else str(spec).strip().lower()
    if not _SPEC.match(text):
        raise UserError(f"--device {spec!r} is not a device; expected {DEVICE_CHOICES}")
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(text)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"--device {spec!r}: this machine has no CUDA device (use auto or cpu)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(
                f"--device {spec!r}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    return device


def describe_device(device: torch.device) -> str:
    """e.g. ``cuda:0 (NVIDIA H200)`` or ``cpu (2 threads)``, for logs and saved settings."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"{device.type} ({torch.get_num_threads()} threads)"


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively: a CUDA GPU of compute capability 8.0 or
    newer (Ampere on; a T4 or V100 only emulates it, slower than float32), or a CPU with
    AVX512-BF16 or AMX. What ``auto`` precisions choose bfloat16 autocast by."""
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device) >= (8, 0)
    if device.type == "cpu":
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    return False
