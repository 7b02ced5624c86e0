"""Background sources: 32 x 32 natural images in two disjoint pools (``train`` for the train
and val splits, ``test`` for the test split):

- ``cifar10``: torchvision's CIFAR-10 (downloads 170 MiB);
- a path: an ``.npz`` with uint8 ``images`` (N, H, W, 3) (channels-first is transposed) and
  optionally ``batch`` (``test_batch`` rows form the test pool), or a folder of image files;
- ``builtin``: random crops of the photographs bundled with scikit-image and scikit-learn.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL.Image

from common.errors import UserError
from shapes.imageio import ImageFormatError, to_rgb8

log = logging.getLogger(__name__)

BG_SIZE = 32
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True)
class BackgroundBank:
    """Two pools of uint8 RGB backgrounds (N, 32, 32, 3) and the name of their source."""

    train: np.ndarray
    test: np.ndarray
    source: str

    def pool(self, split: str) -> np.ndarray:
        """The pool that ``split`` draws from (train and val share the train pool)."""
        return self.test if split == "test" else self.train


def stretch(background: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Stretch a (h, w, 3) uint8 background to (H, W, 3) with bilinear interpolation."""
    h, w = hw
    return np.asarray(PIL.Image.fromarray(background).resize((w, h), PIL.Image.BILINEAR))


def _to_32(img: np.ndarray) -> np.ndarray:
    """A photo or image (H, W[, C]) as contiguous uint8 RGB (32, 32, 3), resized bilinearly."""
    img = _rgb(img)
    if img.shape[:2] != (BG_SIZE, BG_SIZE):
        img = stretch(img, (BG_SIZE, BG_SIZE))
    return np.ascontiguousarray(img, dtype=np.uint8)


def _split_by_hash(names: list[str], test_fraction: float) -> np.ndarray:
    """Deterministic test membership from a hash of each name."""
    hashes = [int(hashlib.sha1(n.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF for n in names]
    return np.array(hashes) < test_fraction


def _npz_images(path: Path, images: np.ndarray) -> np.ndarray:
    """Check an .npz ``images`` array: uint8 (N, H, W, 3), or channels-first, transposed."""
    shape = images.shape
    if images.dtype != np.uint8:
        raise UserError(
            f"{path}: 'images' must be uint8 (N, H, W, 3), got {images.dtype} {shape}; scale "
            "the values to 0..255 and store them as uint8"
        )
    if images.ndim == 4 and shape[3] != 3 and shape[1] == 3:
        log.warning(
            "%s: 'images' %s looks channels-first (N, 3, H, W): transposed to (N, H, W, 3)",
            path,
            shape,
        )
        images = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    if images.ndim != 4 or images.shape[3] != 3 or images.shape[0] == 0:
        raise UserError(
            f"{path}: 'images' must be uint8 (N, H, W, 3) RGB with N >= 1, got shape {shape}"
        )
    return images


def load_npz(path: Path, test_fraction: float = 0.15) -> BackgroundBank:
    """Backgrounds from an ``.npz`` file (see the module docstring); raises
    :class:`common.UserError` for an unreadable file or a missing or malformed ``images``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files if name in ("images", "batch")}
            names = sorted(data.files)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        raise UserError(
            f"cannot read backgrounds {path}: {exc or type(exc).__name__} (empty, truncated or "
            "not an .npz file?)"
        ) from exc
    if "images" not in arrays:
        raise UserError(f"{path} has no 'images' array (found {names})")
    images, batch = _npz_images(path, arrays["images"]), arrays.get("batch")
    if images.shape[1:3] != (BG_SIZE, BG_SIZE):
        images = np.stack([_to_32(im) for im in images])
    if batch is not None:
        if len(batch) != len(images):
            raise UserError(f"{path}: 'batch' has {len(batch)} entries for {len(images)} images")
        is_test = np.array([str(b) == "test_batch" for b in batch])
    else:
        is_test = _split_by_hash([str(i) for i in range(len(images))], test_fraction)
    if is_test.all() or not is_test.any():
        raise UserError(f"{path}: cannot split backgrounds into train and test pools")
    return BackgroundBank(images[~is_test], images[is_test], source=f"npz:{path}")


def load_folder(path: Path, test_fraction: float = 0.15) -> BackgroundBank:
    """Backgrounds from a folder of image files, split into pools by a hash of the file name."""
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)
    if len(files) < 2:
        raise UserError(f"{path}: need at least 2 image files, found {len(files)}")
    imgs = []
    for f in files:
        try:
            with PIL.Image.open(f) as im:
                imgs.append(_to_32(np.asarray(to_rgb8(im, f))))
        except ImageFormatError as exc:
            raise UserError(f"cannot read background image {exc}") from exc
        except OSError as exc:
            raise UserError(f"cannot read background image {f}: {exc}") from exc
    images = np.stack(imgs)
    is_test = _split_by_hash([str(f.relative_to(path)) for f in files], test_fraction)
    if is_test.all() or not is_test.any():
        is_test = np.arange(len(files)) == len(files) - 1
    return BackgroundBank(images[~is_test], images[is_test], source=f"folder:{path}")


def load_cifar10(root: Path) -> BackgroundBank:
    """CIFAR-10 through torchvision (train set -> train pool, test set -> test pool)."""
    from torchvision.datasets import CIFAR10

    try:
        train = CIFAR10(str(root), train=True, download=True)
        test = CIFAR10(str(root), train=False, download=True)
    except (OSError, RuntimeError) as exc:  # URLError is an OSError
        raise UserError(
            f"could not download CIFAR-10 into {root} ({exc}). Offline, use "
            "'--backgrounds builtin' or '--backgrounds PATH' with an .npz or image folder."
        ) from exc
    return BackgroundBank(np.asarray(train.data), np.asarray(test.data), source="cifar10")


def _random_crops(photos: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((n, BG_SIZE, BG_SIZE, 3), dtype=np.uint8)
    for i in range(n):
        photo = photos[rng.integers(len(photos))]
        h, w = photo.shape[:2]
        side = int(rng.integers(48, min(h, w, 200) + 1))
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = photo[y : y + side, x : x + side]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        out[i] = _to_32(np.ascontiguousarray(crop))
    return out


def load_builtin(seed: int = 0, n_train: int = 6000, n_test: int = 1000) -> BackgroundBank:
    """Random 32 x 32 crops of the photographs bundled with scikit-image and scikit-learn
    (different ones for the two pools); needs no network."""
    import skimage.data as skd
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB6]))
    china, flower = load_sample_images().images
    train = [skd.astronaut(), skd.coffee(), skd.rocket(), skd.stereo_motorcycle()[0]]
    train += [skd.immunohistochemistry(), skd.retina(), skd.hubble_deep_field(), flower]
    test = [skd.chelsea(), china]
    train_crops = _random_crops([_rgb(p) for p in train], n_train, rng)
    test_crops = _random_crops([_rgb(p) for p in test], n_test, rng)
    return BackgroundBank(train_crops, test_crops, source="builtin")


def _rgb(photo: np.ndarray) -> np.ndarray:
    """Grey (H, W) or RGB(A) (H, W, C) as RGB, floats in 0..1 or 0..255 scaled to uint8."""
    if photo.ndim == 2:
        photo = np.repeat(photo[..., None], 3, axis=2)
    photo = photo[..., :3]
    if photo.dtype != np.uint8:
        photo = np.clip(photo * (255.0 if photo.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    return photo


def load_backgrounds(spec: str, cache_dir: Path = Path("data"), seed: int = 0) -> BackgroundBank:
    """Resolve ``--backgrounds``: ``cifar10``, ``builtin`` or a path to an .npz / image folder."""
    if spec == "builtin":
        return load_builtin(seed)
    if spec == "cifar10":
        return load_cifar10(cache_dir / "cifar10")
    path = Path(spec)
    if path.is_dir():
        return load_folder(path)
    if path.is_file() and path.suffix == ".npz":
        return load_npz(path)
    raise UserError(
        f"unknown background source {spec!r}: expected 'cifar10', 'builtin', an existing .npz "
        "file or an existing folder of images"
    )
