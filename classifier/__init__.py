"""The template's ResNet-18 shape classifier: building, training and caching it."""

from classifier.cache import CheckpointError, load_checkpoint, load_or_train, save_checkpoint
from classifier.config import FINETUNE, SCRATCH, TrainConfig, TrainingInfo
from classifier.model import build_classifier, default_target_layer
from classifier.train import accuracy, predict, train_classifier

__all__ = [
    "FINETUNE",
    "SCRATCH",
    "CheckpointError",
    "TrainConfig",
    "TrainingInfo",
    "accuracy",
    "build_classifier",
    "default_target_layer",
    "load_checkpoint",
    "load_or_train",
    "predict",
    "save_checkpoint",
    "train_classifier",
]
