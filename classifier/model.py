"""ResNet-18 with a 5-way head, exactly the template's architecture."""

from __future__ import annotations

import torchvision
from torch import nn

from shapes.classes import CLASSES


def build_classifier(imagenet_weights: bool = False, num_classes: int = len(CLASSES)) -> nn.Module:
    """torchvision ResNet-18 with its ``fc`` replaced by a ``num_classes``-way linear layer,
    from ``ResNet18_Weights.IMAGENET1K_V1`` with ``imagenet_weights`` (downloaded when missing)."""
    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1 if imagenet_weights else None
    model = torchvision.models.resnet18(weights=weights)
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def default_target_layer(model: nn.Module) -> nn.Module:
    """The template's Grad-CAM target layer, ``model.layer2[-1]`` (6 x 8 cells at 48 x 64)."""
    return model.layer2[-1]  # type: ignore[index]
