"""The course's synthetic-shapes dataset: loading, generating and fingerprinting it."""

from shapes.classes import CLASSES, IMAGE_SIZE
from shapes.dataset import DatasetError, SyntheticData
from shapes.fingerprint import dataset_fingerprint
from shapes.transforms import IMAGENET_MEAN, IMAGENET_STD, imagenet_transform, to_uint8_images

__all__ = [
    "CLASSES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_SIZE",
    "DatasetError",
    "SyntheticData",
    "dataset_fingerprint",
    "imagenet_transform",
    "to_uint8_images",
]
