"""``predictions.npz``: everything a comparison computed per image, so figures recompute nothing.

Arrays (N images of size H x W):

- ``names`` str (N,), ``images`` uint8 (N, H, W, 3), ``gt_masks`` bool (N, H, W),
  ``classes`` int64 (N,), ``cams`` float16 (N, H, W) in 0..1;
- optionally ``opacity`` float32 (N,): each shape's opacity in 0..1 (see :mod:`shapes.params`),
  NaN for an image the dataset does not list, and ``predicted`` int64 (N,): the classifier's
  top class (the class the heat map explains);
- per strategy ``S``: ``coords:S`` int16 (N, K, 2) points (X, Y), ``point_labels:S`` int8 (N, K)
  (1 = foreground, 0 = background), ``pred:S`` bool (N, H, W) predicted masks.
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.atomic import atomic_write
from common.errors import UserError

REQUIRED_KEYS = ("names", "images", "gt_masks", "classes", "cams", "mask_shape")


@dataclass
class Predictions:
    """In-memory form of ``predictions.npz`` (see the module docstring)."""

    names: np.ndarray
    images: np.ndarray
    gt_masks: np.ndarray
    classes: np.ndarray
    cams: np.ndarray
    coords: dict[str, np.ndarray] = field(default_factory=dict)
    point_labels: dict[str, np.ndarray] = field(default_factory=dict)
    pred: dict[str, np.ndarray] = field(default_factory=dict)
    opacity: np.ndarray | None = None
    predicted: np.ndarray | None = None

    @property
    def strategies(self) -> list[str]:
        """Names of the strategies (and other rows) with saved predictions, in insertion order."""
        return list(self.pred)

    def add(self, name: str, coords: np.ndarray, labels: np.ndarray, pred: np.ndarray) -> None:
        """Store one strategy's points int (N, K, 2) as (X, Y) with labels int (N, K) (K = 0 for
        a model without points) and masks bool (N, H, W)."""
        if pred.shape != self.gt_masks.shape:
            raise ValueError(f"{name}: predicted masks {pred.shape} != {self.gt_masks.shape}")
        self.coords[name] = coords.astype(np.int16)
        self.point_labels[name] = labels.astype(np.int8)
        self.pred[name] = pred.astype(bool)

    def save(self, path: Path) -> Path:
        """Write a compressed ``.npz`` (masks bit-packed), atomically."""
        shape = self.gt_masks.shape
        arrays = {
            "names": self.names,
            "images": self.images,
            "gt_masks": self.gt_masks,
            "classes": self.classes,
            "cams": self.cams.astype(np.float16),
            "mask_shape": np.array(shape),
        }
        if self.opacity is not None:
            arrays["opacity"] = self.opacity.astype(np.float32)
        if self.predicted is not None:
            arrays["predicted"] = self.predicted.astype(np.int64)
        for name in self.pred:
            arrays[f"coords:{name}"] = self.coords[name]
            arrays[f"point_labels:{name}"] = self.point_labels[name]
            arrays[f"pred:{name}"] = np.packbits(
                self.pred[name].reshape(len(self.names), -1), axis=1
            )

        def write(tmp: Path) -> None:
            with tmp.open("wb") as f:
                np.savez_compressed(f, **arrays)

        return atomic_write(path, write)

    @classmethod
    def load(cls, path: Path) -> Predictions:
        """Read what :meth:`save` wrote.

        Raises:
            common.UserError: the file is truncated, not an .npz, or of an older format.
        """
        rerun = "rerun 'python scripts/compare_strategies.py' to rewrite it"
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = [k for k in REQUIRED_KEYS if k not in z.files]
                if missing:
                    raise KeyError(", ".join(missing))
                shape = tuple(int(v) for v in z["mask_shape"])
                cams = z["cams"].astype(np.float32)
                out = cls(z["names"], z["images"], z["gt_masks"], z["classes"], cams)
                if "opacity" in z.files:
                    out.opacity = z["opacity"].astype(np.float64)
                if "predicted" in z.files:
                    out.predicted = z["predicted"].astype(np.int64)
                size = int(np.prod(shape[1:]))
                for key in z.files:
                    if key.startswith("pred:"):
                        name = key[5:]
                        bits = np.unpackbits(z[key], axis=1, count=size).astype(bool)
                        out.pred[name] = bits.reshape(shape)
                        out.coords[name] = z[f"coords:{name}"].astype(np.int64)
                        out.point_labels[name] = z[f"point_labels:{name}"].astype(np.int64)
            return out
        except KeyError as exc:
            raise UserError(
                f"{path} is a predictions file of another version (missing {exc}); {rerun}"
            ) from exc
        except (OSError, EOFError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
            raise UserError(f"cannot read {path}: {exc} (truncated?); {rerun}") from exc
