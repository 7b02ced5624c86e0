"""Constants of the course dataset."""

from typing import Final

#: Class names in label-index order, exactly as the course's ``SyntheticData.CLASSES``.
CLASSES: Final[tuple[str, ...]] = ("circle", "square", "triangle", "star", "diamond")

#: Image size of the real course dataset, (H, W) in pixels.
IMAGE_SIZE: Final[tuple[int, int]] = (48, 64)

#: Split names and the sizes of the real course dataset.
SPLITS: Final[tuple[str, ...]] = ("train", "val", "test")
SPLIT_SIZES: Final[dict[str, int]] = {"train": 3500, "val": 1000, "test": 500}
