"""The template's ResNet-18 shape classifier: building, training and caching it."""

from classifier.model import build_classifier, default_target_layer

__all__ = ["build_classifier", "default_target_layer"]
