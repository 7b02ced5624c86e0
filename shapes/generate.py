"""Generating a dataset in the course's exact layout, and fresh samples in memory.

The same seed, background source and sizes give byte-identical files, written to a temporary
folder renamed into place when complete. ``overwrite`` replaces only a folder with this
project's marker (``generation.json`` whose ``"generator"`` starts with ``"camsam."``), never
the working directory, its parents, home or ``/``. ``shape_params.csv`` records each shape's
opacity and colour.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import PIL.Image
from tqdm import tqdm

from common.atomic import make_temp_dir
from common.guard import check_replaceable, replace_dir
from shapes.backgrounds import BackgroundBank, stretch
from shapes.classes import CLASSES, IMAGE_SIZE, SPLIT_SIZES, SPLITS
from shapes.draw import ShapeStyle, paste, sample_shape
from shapes.params import params_rows, stem_width, write_params
from shapes.stress import ContrastStyle, adjust_background, near_background_colour

MARKER_FILE = "generation.json"
GENERATOR_PREFIX = "camsam."
MARKER_DESCRIPTION = f"{MARKER_FILE} marker"


@dataclass(frozen=True)
class GenerationConfig:
    """Everything that determines a generated dataset (saved as ``generation.json``).

    ``preset`` only records which stress preset (:data:`shapes.stress.STRESS_PRESETS`) the
    styles came from, if any; ``style`` and ``contrast`` are what is drawn.
    """

    seed: int = 0
    sizes: dict[str, int] = field(default_factory=lambda: dict(SPLIT_SIZES))
    hw: tuple[int, int] = IMAGE_SIZE
    style: ShapeStyle = field(default_factory=ShapeStyle)
    contrast: ContrastStyle = field(default_factory=ContrastStyle)
    preset: str | None = None


@dataclass(frozen=True)
class Rendered:
    """Samples drawn in memory (N images of size H x W).

    Attributes:
        images: uint8 (N, H, W, 3) RGB.
        labels: int64 (N,) class indices.
        masks: bool (N, H, W).
        alphas: float64 (N,) each shape's opacity (1 = opaque).
        colours: uint8 (N, 3) each shape's colour before blending.
    """

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    alphas: np.ndarray
    colours: np.ndarray


def _background_order(n: int, pool_size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices into a pool, without repetition while the pool lasts."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if pool_size <= 0:
        raise ValueError(f"need backgrounds to draw {n} images from, but the pool is empty")
    reps = -(-n // pool_size)
    return np.concatenate([rng.permutation(pool_size) for _ in range(reps)])[:n]


def render(
    pool: np.ndarray,
    n: int,
    rng: np.random.Generator,
    style: ShapeStyle | None = None,
    hw: tuple[int, int] = IMAGE_SIZE,
    background_indices: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    contrast: ContrastStyle | None = None,
) -> Rendered:
    """Draw ``n`` samples (:class:`Rendered`) in memory with ``rng``, on uint8 backgrounds
    ``pool`` (N, h, w, 3) stretched to ``hw`` = (H, W); ``background_indices`` (n,) into
    ``pool`` and class ``labels`` (n,) are drawn uniformly when None. ``contrast`` at its
    default draws nothing more from ``rng``."""
    style = style if style is not None else ShapeStyle()
    contrast = contrast if contrast is not None else ContrastStyle()
    if labels is None:
        labels = rng.integers(0, len(CLASSES), size=n)
    if background_indices is None:
        background_indices = rng.integers(0, len(pool), size=n)
    images = np.empty((n, *hw, 3), dtype=np.uint8)
    masks = np.empty((n, *hw), dtype=bool)
    alphas = np.empty(n, dtype=np.float64)
    colours = np.empty((n, 3), dtype=np.uint8)
    for i in range(n):
        bg = stretch(pool[background_indices[i]], hw)
        mask, colour, alpha = sample_shape(rng, int(labels[i]), hw, style)
        bg = adjust_background(bg, contrast, rng)
        if contrast.colour_offset is not None:
            colour = near_background_colour(bg, mask, contrast.colour_offset, rng)
        images[i] = paste(bg, mask, colour, alpha)
        masks[i] = mask
        alphas[i], colours[i] = alpha, colour
    return Rendered(images, np.asarray(labels, dtype=np.int64), masks, alphas, colours)


def _write_split(root: Path, split: str, drawn: Rendered, progress: bool) -> None:
    images, masks, labels = (root / kind / split for kind in ("images", "masks", "labels"))
    for folder in (images, masks, labels):
        folder.mkdir(parents=True, exist_ok=True)
    n = len(drawn.images)
    width = stem_width(n)
    for i in tqdm(range(n), desc=f"writing {split}", disable=not progress, leave=False):
        stem = f"{i:0{width}d}"
        PIL.Image.fromarray(drawn.images[i]).save(images / f"{stem}.png")
        PIL.Image.fromarray(drawn.masks[i].astype(np.uint8) * 255).save(masks / f"{stem}.png")
        (labels / f"{stem}.txt").write_text(CLASSES[int(drawn.labels[i])] + "\n")


def generate_dataset(
    out: Path | str,
    backgrounds: BackgroundBank,
    config: GenerationConfig = GenerationConfig(),
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Write a dataset in the course layout to ``out`` (see the module docstring).

    Raises:
        FileExistsError: ``out`` exists and ``overwrite`` is False.
        common.UserError: ``overwrite`` is True but ``out`` is not a dataset this project wrote
            (see :func:`check_output`).
    """
    out = Path(out)
    check_output(out, overwrite)
    unknown = set(config.sizes) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown split(s) {sorted(unknown)}; expected {SPLITS}")
    tmp = make_temp_dir(out)
    try:
        split_rngs = dict(
            zip(SPLITS, np.random.SeedSequence(config.seed).spawn(len(SPLITS) + 1), strict=False)
        )
        bg_rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0xBA]))
        # train and val share the train pool without repeating a background between them
        n_trainval = config.sizes.get("train", 0) + config.sizes.get("val", 0)
        trainval_bg = _background_order(n_trainval, len(backgrounds.train), bg_rng)
        bg_index = {
            "train": trainval_bg[: config.sizes.get("train", 0)],
            "val": trainval_bg[config.sizes.get("train", 0) :],
            "test": _background_order(config.sizes.get("test", 0), len(backgrounds.test), bg_rng),
        }
        params = []
        for split in SPLITS:
            n = config.sizes.get(split, 0)
            if n == 0:
                continue
            rng = np.random.default_rng(split_rngs[split])
            labels = rng.permutation(np.arange(n) % len(CLASSES))
            pool = backgrounds.pool(split)
            drawn = render(
                pool, n, rng, config.style, config.hw, bg_index[split], labels, config.contrast
            )
            _write_split(tmp, split, drawn, progress)
            names = [CLASSES[int(k)] for k in drawn.labels]
            params += params_rows(split, names, drawn.alphas, drawn.colours)
        write_params(tmp, params)
        generator = f"{GENERATOR_PREFIX}shapes"
        meta = {"generator": generator, "backgrounds": backgrounds.source, **asdict(config)}
        publish(tmp, out, meta, overwrite)
    except BaseException:
        if tmp.exists():
            shutil.rmtree(tmp)
        raise
    return out


def publish(folder: Path, out: Path, meta: dict, overwrite: bool) -> None:
    """Write the marker (``meta``) into ``folder`` and move ``folder`` to ``out``, checked again
    (it may have appeared since :func:`check_output`)."""
    (folder / MARKER_FILE).write_text(json.dumps(meta, indent=2, default=list) + "\n")
    if out.exists():
        check_output(out, overwrite)
    replace_dir(folder, out)


def is_project_dataset(folder: Path | str) -> bool:
    """Whether ``folder`` holds this project's marker (a readable ``generation.json``)."""
    path = Path(folder) / MARKER_FILE
    if not path.is_file():
        return False
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False  # unreadable marker: not provably ours, so never deleted
    return isinstance(meta, dict) and str(meta.get("generator", "")).startswith(GENERATOR_PREFIX)


def check_output(out: Path | str, overwrite: bool, option: str = "--out") -> None:
    """Raise unless a dataset may be written to ``out`` (call before any expensive step).

    Raises:
        FileExistsError: ``out`` exists and ``overwrite`` is False.
        common.UserError: ``out`` exists but may not be replaced: it is the working directory,
            one of its parents, the home folder or ``/``, or it lacks this project's marker.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return
    if not overwrite:
        raise FileExistsError(
            f"{option} {out} already exists; pass --overwrite to replace a dataset this project "
            "wrote, or choose another folder"
        )
    check_replaceable(out, is_project_dataset, MARKER_DESCRIPTION, option)
