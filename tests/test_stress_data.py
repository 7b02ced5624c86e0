"""The stress-data options of the generator (shapes.stress, prepare_data.py) and the per-image
shape parameters a generation records (shapes.params)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from common.errors import UserError
from metrics import shape_contrasts
from shapes import SyntheticData, dataset_fingerprint
from shapes.backgrounds import BackgroundBank
from shapes.draw import ShapeStyle, StyleError
from shapes.generate import GenerationConfig, generate_dataset, render
from shapes.params import PARAMS_FILE, read_opacity
from shapes.stress import (
    STRESS_PRESETS,
    ContrastStyle,
    adjust_background,
    near_background_colour,
    resolve_styles,
)

SIZES = {"train": 5, "val": 3, "test": 4}
#: Fingerprints of default generations on :func:`noise_bank`, recorded before the stress
#: options existed: a default generation must keep writing these exact bytes.
FINGERPRINTS_BEFORE = {0: "34a1cdc49166d80a", 7: "b5b2223ea23329a4"}


def noise_bank() -> BackgroundBank:
    rng = np.random.default_rng(0)
    return BackgroundBank(
        rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8),
        rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8),
        "noise",
    )


def generate(path: Path, **config) -> Path:
    config.setdefault("sizes", SIZES)
    return generate_dataset(path, noise_bank(), GenerationConfig(**config), progress=False)


@pytest.mark.parametrize("seed", sorted(FINGERPRINTS_BEFORE))
def test_default_generation_writes_the_same_bytes_as_before(tmp_path: Path, seed: int) -> None:
    root = generate(tmp_path / "ds", seed=seed)
    assert dataset_fingerprint(root) == FINGERPRINTS_BEFORE[seed]


def test_presets_are_deterministic_recorded_and_differ_from_the_default(tmp_path: Path) -> None:
    default = dataset_fingerprint(generate(tmp_path / "default"))
    seen = {default}
    for name, preset in STRESS_PRESETS.items():
        kwargs = dict(style=preset.style, contrast=preset.contrast, preset=name)
        a, b = (
            generate(tmp_path / f"{name}_a", **kwargs),
            generate(tmp_path / f"{name}_b", **kwargs),
        )
        assert dataset_fingerprint(a) == dataset_fingerprint(b), name
        seen.add(dataset_fingerprint(a))
        meta = json.loads((a / "generation.json").read_text())
        assert meta["preset"] == name
        assert meta["style"]["alpha_range"] == list(preset.style.alpha_range)
        assert meta["style"]["opaque_prob"] == preset.style.opaque_prob
        assert meta["contrast"]["colour_offset"] == preset.contrast.colour_offset
        assert meta["contrast"]["background_texture"] == preset.contrast.background_texture
    assert len(seen) == len(STRESS_PRESETS) + 1, "a preset drew the default images"


def test_shape_params_record_each_opacity(tmp_path: Path) -> None:
    style = STRESS_PRESETS["translucent"].style
    root = generate(tmp_path / "ds", style=style)
    names = SyntheticData(root, "test").image_names
    alpha = read_opacity(root, "test", names)
    assert alpha is not None and alpha.shape == (SIZES["test"],)
    assert ((alpha >= 0.25) & (alpha <= 0.6)).all()
    assert np.isnan(read_opacity(root, "test", ["99999"])).all()
    default = generate(tmp_path / "default")
    alpha = read_opacity(default, "train", SyntheticData(default, "train").image_names)
    assert alpha is not None and ((alpha >= 0.45) & (alpha <= 1.0)).all()
    (default / PARAMS_FILE).unlink()
    assert read_opacity(default, "train", ["00000"]) is None


def test_render_returns_the_alphas_it_blended_with() -> None:
    flat = np.full((4, 32, 32, 3), 100, np.uint8)
    style = ShapeStyle(alpha_range=(0.3, 0.5), opaque_prob=0.0, border_overhang=0.0)
    out = render(flat, 6, np.random.default_rng(1), style)
    for image, mask, alpha, colour in zip(
        out.images, out.masks, out.alphas, out.colours, strict=True
    ):
        expected = np.rint((1 - alpha) * 100 + alpha * colour.astype(float))
        np.testing.assert_array_equal(image[mask], np.broadcast_to(expected, image[mask].shape))


def test_low_contrast_and_translucent_shapes_have_lower_contrast() -> None:
    pool = noise_bank().train
    contrasts = {}
    for name in ("low_contrast", "translucent"):
        preset = STRESS_PRESETS[name]
        out = render(pool, 60, np.random.default_rng(0), preset.style, contrast=preset.contrast)
        contrasts[name] = np.nanmedian(shape_contrasts(out.images, out.masks))
    out = render(pool, 60, np.random.default_rng(0))
    default = np.nanmedian(shape_contrasts(out.images, out.masks))
    assert contrasts["low_contrast"] < 0.6 * default
    assert contrasts["translucent"] < 0.8 * default


def test_adjust_background_contrast_and_texture() -> None:
    rng = np.random.default_rng(0)
    bg = rng.integers(0, 255, (8, 10, 3), dtype=np.uint8)
    assert adjust_background(bg, ContrastStyle(), rng) is bg
    flat = adjust_background(bg, ContrastStyle(background_contrast=0.0), rng)
    assert (flat == flat[0, 0]).all()
    np.testing.assert_allclose(flat[0, 0], bg.reshape(-1, 3).mean(axis=0), atol=0.5)
    grey = np.full((40, 40, 3), 128, np.uint8)
    noisy = adjust_background(grey, ContrastStyle(background_texture=10.0), rng)
    assert 8 < noisy.astype(float).std() < 12
    a = adjust_background(grey, ContrastStyle(background_texture=10.0), np.random.default_rng(3))
    b = adjust_background(grey, ContrastStyle(background_texture=10.0), np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_near_background_colour_stays_within_the_offset() -> None:
    bg = np.zeros((6, 6, 3), np.uint8)
    bg[..., 0] = 200
    mask = np.zeros((6, 6), bool)
    mask[2:4, 2:4] = True
    for seed in range(20):
        colour = near_background_colour(bg, mask, 10.0, np.random.default_rng(seed))
        assert colour.dtype == np.uint8
        assert 190 <= colour[0] <= 210 and colour[1] <= 10 and colour[2] <= 10


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (dict(alpha_range=(0.8, 0.2)), "alpha_range"),
        (dict(alpha_range=(0.5, 1.5)), "alpha_range"),
        (dict(size_range=(0.0, 4.0)), "size_range"),
        (dict(size_range=(4.0, float("inf"))), "size_range"),
        (dict(opaque_prob=1.5), "opaque_prob"),
        (dict(alpha_range=(0.5,)), "alpha_range"),
    ],
)
def test_shape_style_refuses_bad_ranges(kwargs: dict, field: str) -> None:
    with pytest.raises(StyleError, match=field) as info:
        ShapeStyle(**kwargs)
    assert info.value.field == field


@pytest.mark.parametrize("field", ["background_contrast", "background_texture", "colour_offset"])
def test_contrast_style_refuses_negative_values(field: str) -> None:
    with pytest.raises(StyleError, match=field):
        ContrastStyle(**{field: -1.0})


def test_resolve_styles_applies_overrides_to_the_preset() -> None:
    assert resolve_styles() == (ShapeStyle(), ContrastStyle())
    style, contrast = resolve_styles("translucent", opaque_prob=0.5, colour_offset=None)
    assert style.alpha_range == STRESS_PRESETS["translucent"].style.alpha_range
    assert style.opaque_prob == 0.5 and contrast == ContrastStyle()
    style, _ = resolve_styles(None, size_range=[5, 9])
    assert style.size_range == (5, 9)
    with pytest.raises(UserError, match="Did you mean 'translucent'"):
        resolve_styles("translucnt")


def test_prepare_data_names_the_bad_option(tmp_path: Path) -> None:
    from scripts.prepare_data import build_parser, main

    parser = build_parser()
    args = parser.parse_args(["--out", str(tmp_path / "x"), "--alpha-range", "0.9", "0.1"])
    with pytest.raises(UserError, match=r"^--alpha-range: alpha_range must lie in \[0, 1\]"):
        main(args)
    args = parser.parse_args(["--out", str(tmp_path / "x"), "--background-texture", "-2"])
    with pytest.raises(UserError, match=r"^--background-texture"):
        main(args)
    assert not (tmp_path / "x").exists()


def test_prepare_data_records_the_preset_and_overrides(tmp_path: Path) -> None:
    from scripts.prepare_data import build_parser, generation_config

    argv = ["--preset", "small", "--opaque-prob", "0", "--train", "3", "--val", "2", "--test", "1"]
    config = generation_config(build_parser().parse_args(argv))
    assert isinstance(config, GenerationConfig)
    assert config.preset == "small" and config.style.size_range == (6.0, 12.0)
    assert config.style.opaque_prob == 0.0 and config.sizes == {"train": 3, "val": 2, "test": 1}
    default = generation_config(build_parser().parse_args([]))
    assert default.style == ShapeStyle() and default.contrast == ContrastStyle()
    assert isinstance(build_parser().parse_args([]), argparse.Namespace)
