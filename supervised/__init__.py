"""The supervised reference (second seed): smp FPN / PSPNet segmenters trained on the masks,
scored with the same :mod:`metrics` IoU as the label-free CAM + SAM pipelines.
"""

from supervised.checkpoint import load_reference_models
from supervised.features import feature_layers
from supervised.models import (
    MODEL_SPECS,
    build_model,
    model_summary,
    predict_masks,
    resolve_encoder_weights,
)
from supervised.reference import load_splits, train_or_load
from supervised.train import MODEL_DEFAULTS, TrainConfig, default_config

__all__ = [
    "MODEL_DEFAULTS",
    "MODEL_SPECS",
    "TrainConfig",
    "build_model",
    "default_config",
    "feature_layers",
    "load_reference_models",
    "load_splits",
    "model_summary",
    "predict_masks",
    "resolve_encoder_weights",
    "train_or_load",
]
