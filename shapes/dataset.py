"""Loader for the course's synthetic-shapes dataset (same contract as the template's class).

Layout (identical for a downloaded course dataset and a generated one)::

    <root>/images/<split>/<stem>.png   RGB image
    <root>/masks/<split>/<stem>.png    mask, non-zero = shape
    <root>/labels/<split>/<stem>.txt   one class name, e.g. "circle"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, TypeVar

import numpy as np
import PIL.Image
from torch.utils.data import Dataset

from common.errors import UserError
from shapes.classes import CLASSES, SPLITS
from shapes.imageio import ImageFormatError, to_rgb8

T = TypeVar("T")
Split = Literal["train", "val", "test"]
#: The parallel folders of a split and the suffix of their files.
SUFFIXES = {"images": ".png", "masks": ".png", "labels": ".txt"}


class DatasetError(UserError):
    """A dataset on disk does not follow the course layout; the message names the bad file."""


def _check_file(path: Path, kind: str) -> tuple[int, int]:
    """Open ``path``, check its header and chunk checksums (no decoding) and return (H, W)."""
    try:
        with PIL.Image.open(path) as img:
            size, mode = img.size, img.mode
            img.verify()
    except (OSError, SyntaxError, ValueError) as exc:
        raise DatasetError(f"cannot read {kind} {path}: {exc}") from exc
    if kind == "image" and mode in ("I", "F"):
        raise DatasetError(
            f"cannot read image {path}: pixel mode {mode!r} (32-bit integer or float) has no "
            "known value range; save it as an 8-bit or 16-bit PNG"
        )
    return size[1], size[0]


@dataclass(frozen=True)
class SplitArrays:
    """A whole split in memory.

    Attributes:
        images: uint8 (N, H, W, 3) RGB.
        labels: int64 (N,) class indices into ``CLASSES``.
        masks: bool (N, H, W) ground-truth masks.
        names: the N file stems, in dataset order.
    """

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, indices: np.ndarray | list[int]) -> SplitArrays:
        """The items at ``indices`` (in that order)."""
        idx = np.asarray(indices, dtype=np.int64)
        return SplitArrays(
            self.images[idx], self.labels[idx], self.masks[idx], tuple(self.names[i] for i in idx)
        )


class SyntheticData(Dataset, Generic[T]):
    """A synthetic segmentation dataset of (image, class, mask) tuples: an RGB PIL image
    passed through ``transform``, int 0..4 (the index into ``CLASSES``), a numpy bool (H, W) mask.

    Construction checks the layout (split folders, matching stems, known class names) and
    raises :class:`DatasetError` naming the offending file; unreadable PNGs and masks of the
    wrong size are reported when the item is read (or by :meth:`check_files`).
    """

    CLASSES = CLASSES

    def __init__(
        self,
        path: Path | str,
        split: Split,
        transform: Callable[[PIL.Image.Image], T] | None = None,
    ) -> None:
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}; expected one of {SPLITS}")
        self.path = Path(path)
        self.split = split
        self.transform = transform
        self.class_to_idx = {name: i for i, name in enumerate(CLASSES)}

        self.folders = {kind: self.path / kind / split for kind in SUFFIXES}
        for kind, folder in self.folders.items():
            if not folder.is_dir():
                raise DatasetError(f"missing {kind} folder for split {split!r}: {folder}")
        found = {kind: sorted(self.folders[kind].glob(f"*{s}")) for kind, s in SUFFIXES.items()}
        if not found["images"]:
            raise DatasetError(f"no images found in {self.folders['images']}")
        self._check_stems(found)
        self.image_names = [p.stem for p in found["images"]]
        self.labels = np.array([self._read_label(p) for p in found["labels"]], dtype=np.int64)

    @staticmethod
    def _check_stems(found: dict[str, list[Path]]) -> None:
        stems = {kind: {p.stem: p for p in paths} for kind, paths in found.items()}
        all_stems = set().union(*stems.values())
        for kind, found in stems.items():
            missing = sorted(all_stems - found.keys())
            if missing:
                others = [s[missing[0]] for k, s in stems.items() if k != kind and missing[0] in s]
                raise DatasetError(
                    f"{others[0]} has no matching file in {kind}/ "
                    f"({len(missing)} stem(s) missing there, first {missing[0]!r})"
                )

    def _read_label(self, path: Path) -> int:
        name = path.read_text().strip()
        if name not in self.class_to_idx:
            raise DatasetError(f"unknown class name {name!r} in {path}; expected one of {CLASSES}")
        return self.class_to_idx[name]

    def __len__(self) -> int:
        return len(self.image_names)

    def files(self, idx: int) -> tuple[Path, ...]:
        """Paths (image, mask, label) of item ``idx``."""
        name = self.image_names[idx]
        return tuple(folder / f"{name}{SUFFIXES[kind]}" for kind, folder in self.folders.items())

    def read_raw(self, idx: int) -> tuple[PIL.Image.Image, int, np.ndarray]:
        """Item ``idx`` without the transform: (RGB PIL image, label, bool mask (H, W))."""
        img_path, mask_path, _ = self.files(idx)
        img = None
        try:
            with PIL.Image.open(img_path) as image:
                img = to_rgb8(image, img_path)
            with PIL.Image.open(mask_path) as image:
                mask = np.array(image, dtype=bool)
        except ImageFormatError as exc:
            raise DatasetError(f"cannot read image {exc}") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            kind, path = ("image", img_path) if img is None else ("mask", mask_path)
            raise DatasetError(f"cannot read {kind} {path}: {exc}") from exc
        if mask.ndim != 2 or mask.shape != (img.height, img.width):
            raise DatasetError(
                f"mask {mask_path} has shape {mask.shape}, but its image {img_path} is "
                f"{img.height} x {img.width} (H x W)"
            )
        return img, int(self.labels[idx]), mask

    def check_files(self) -> None:
        """Check every image and mask of the split without decoding the pixels (cheap: run it
        before any expensive step).

        Raises:
            DatasetError: naming the first file that is not a readable image, has a pixel mode
                of unknown range, or whose mask size differs from its image size.
        """
        for idx in range(len(self)):
            img_path, mask_path, _ = self.files(idx)
            hw = _check_file(img_path, "image")
            mask_hw = _check_file(mask_path, "mask")
            if mask_hw != hw:
                raise DatasetError(
                    f"mask {mask_path} is {mask_hw[0]} x {mask_hw[1]}, but its image {img_path} "
                    f"is {hw[0]} x {hw[1]} (H x W)"
                )

    def __getitem__(self, idx: int) -> tuple[T, int, np.ndarray]:
        img, label, mask = self.read_raw(idx)
        out = self.transform(img) if self.transform is not None else img
        return out, label, mask  # type: ignore[return-value]

    def arrays(self) -> SplitArrays:
        """Read the whole split into memory (all images must share one size)."""
        imgs, masks = [], []
        for i in range(len(self)):
            img, _, mask = self.read_raw(i)
            if imgs and (img.height, img.width) != imgs[0].shape[:2]:
                raise DatasetError(
                    f"{self.files(i)[0]} is {img.height} x {img.width}, but earlier images are "
                    f"{imgs[0].shape[0]} x {imgs[0].shape[1]}"
                )
            imgs.append(np.asarray(img, dtype=np.uint8))
            masks.append(mask)
        names = tuple(self.image_names)
        return SplitArrays(np.stack(imgs), self.labels.copy(), np.stack(masks), names)
