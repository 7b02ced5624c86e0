"""The course's synthetic-shapes dataset: loading, generating and fingerprinting it."""

from shapes.classes import CLASSES, IMAGE_SIZE
from shapes.dataset import DatasetError, SyntheticData
from shapes.fingerprint import dataset_fingerprint
from shapes.transforms import imagenet_transform

__all__ = [
    "CLASSES",
    "IMAGE_SIZE",
    "DatasetError",
    "SyntheticData",
    "dataset_fingerprint",
    "imagenet_transform",
]
