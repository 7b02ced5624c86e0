"""The default training schedule per kind of device (:func:`device_schedule`): every model
with its ``MODEL_DEFAULTS`` on the CPU, only FPN ResNet-50 (scale 4, 25 epochs) on CUDA.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from supervised.models import MODEL_SPECS


@dataclass(frozen=True)
class DeviceSchedule:
    """Defaults of ``train_supervised.py`` on one kind of device.

    Attributes:
        models: the models trained when ``--models`` is not given.
        overrides: per model, settings over its ``MODEL_DEFAULTS`` (``TrainConfig`` fields).
        measured: where the schedule's numbers come from, for logs and the README.
    """

    models: tuple[str, ...]
    overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    measured: str = ""


#: Per device type (``torch.device.type``): the CPU's and CUDA's default schedules.
SCHEDULES: dict[str, DeviceSchedule] = {
    "cpu": DeviceSchedule(
        models=tuple(MODEL_SPECS),
        measured="each model under 15 min on a 2-core CPU (README, Supervised reference)",
    ),
    "cuda": DeviceSchedule(
        models=("fpn_resnet50",),
        overrides={"fpn_resnet50": {"input_scale": 4, "epochs": 25}},
        measured="fpn_resnet50 from scratch, scale 4, 25 epochs: 0.9876 test mIoU in "
        "3.4 min on an NVIDIA H200",
    ),
}


def device_schedule(device: torch.device) -> DeviceSchedule:
    """The default schedule on ``device`` (CUDA's on a GPU, the CPU's anywhere else)."""
    return SCHEDULES["cuda" if device.type == "cuda" else "cpu"]
