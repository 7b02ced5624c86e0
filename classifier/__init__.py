"""The template's ResNet-18 shape classifier: building, training and caching it."""

from classifier.cache import CheckpointError, load_checkpoint, load_or_train
from classifier.config import SCRATCH, TrainConfig, TrainingInfo
from classifier.model import build_classifier, default_target_layer
from classifier.train import predict_classes, train_classifier

__all__ = [
    "SCRATCH",
    "CheckpointError",
    "TrainConfig",
    "TrainingInfo",
    "build_classifier",
    "default_target_layer",
    "load_checkpoint",
    "load_or_train",
    "predict_classes",
    "train_classifier",
]
