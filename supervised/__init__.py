"""The supervised reference (second seed): smp FPN / PSPNet segmenters trained on the masks.

They use the ground-truth masks for training, so they are a reference ("uses masks") for the
label-free CAM + SAM pipelines, scored with the same :mod:`metrics` IoU.
"""

from supervised.checkpoint import (
    checkpoint_path,
    find_checkpoints,
    load_checkpoint,
    load_reference_models,
    save_checkpoint,
    settings_key,
)
from supervised.features import capture_feature_maps, feature_layers, feature_map_figure
from supervised.models import (
    MODEL_SPECS,
    build_model,
    count_parameters,
    forward_logits,
    input_multiple,
    model_input_scale,
    model_summary,
    padded_size,
    predict_masks,
    resolve_encoder_weights,
)
from supervised.seed_utils import apply_mask_to_image, dataset_iou, mask_iou, sigmoid, softmax
from supervised.train import (
    MODEL_DEFAULTS,
    TrainConfig,
    TrainResult,
    default_config,
    segmentation_loss,
    train_model,
)

__all__ = [
    "MODEL_DEFAULTS",
    "MODEL_SPECS",
    "TrainConfig",
    "TrainResult",
    "apply_mask_to_image",
    "build_model",
    "capture_feature_maps",
    "checkpoint_path",
    "count_parameters",
    "dataset_iou",
    "default_config",
    "feature_layers",
    "feature_map_figure",
    "find_checkpoints",
    "forward_logits",
    "input_multiple",
    "load_checkpoint",
    "load_reference_models",
    "mask_iou",
    "model_input_scale",
    "model_summary",
    "padded_size",
    "predict_masks",
    "resolve_encoder_weights",
    "save_checkpoint",
    "segmentation_loss",
    "settings_key",
    "sigmoid",
    "softmax",
    "train_model",
]
