"""The supervised reference: models, padding, training, checkpoints, figures."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch.nn import functional as F

from metrics import iou_per_image
from plots.features import segmenter_feature_maps_figure
from shapes import SyntheticData, dataset_fingerprint
from shapes.backgrounds import load_backgrounds
from shapes.dataset import SplitArrays
from shapes.generate import GenerationConfig, generate_dataset
from shapes.transforms import normalize_uint8
from supervised.checkpoint import (
    checkpoint_path,
    load_checkpoint,
    load_reference_models,
    save_checkpoint,
)
from supervised.features import capture_feature_maps, feature_layers
from supervised.models import (
    MODEL_SPECS,
    build_model,
    count_parameters,
    forward_logits,
    input_multiple,
    model_input_scale,
    pad_input,
    padded_size,
    predict_masks,
    resolve_encoder_weights,
)
from supervised.reference import train_or_load
from supervised.train import (
    MODEL_DEFAULTS,
    TrainConfig,
    default_config,
    lr_factor,
    random_flips,
    segmentation_loss,
    train_model,
)

H, W = 48, 64


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sup") / "ds"
    config = GenerationConfig(sizes={"train": 12, "val": 4, "test": 4})
    return generate_dataset(root, load_backgrounds("builtin"), config, progress=False)


@pytest.fixture(scope="module")
def tiny(tiny_root: Path) -> dict[str, SplitArrays]:
    return {s: SyntheticData(tiny_root, s).arrays() for s in ("train", "val", "test")}


def _small(name: str) -> torch.nn.Module:
    """The architecture with its shallowest allowed encoder (3 stages), for speed."""
    torch.manual_seed(0)
    return build_model(name, encoder_depth=3).eval()


# --- models -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_full_architecture_forward_returns_input_size_masks(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(name).eval()
    images = np.random.default_rng(0).integers(0, 256, (2, H, W, 3), dtype=np.uint8)
    masks = predict_masks(model, images)
    assert masks.shape == (2, H, W) and masks.dtype == bool
    logits = forward_logits(model, normalize_uint8(images))
    assert logits.shape == (2, H, W)
    # the head ends in the seed's sigmoid: model(padded x) is a probability map
    with torch.inference_mode():
        xp, _ = pad_input(model, normalize_uint8(images))
        probs = model(xp)
    assert probs.shape[1] == 1 and float(probs.min()) >= 0.0 and float(probs.max()) <= 1.0


def test_parameter_counts_match_the_seed() -> None:
    # the seed prints 26,116,033 parameters for FPN + ResNet-50 with one class
    assert count_parameters(build_model("fpn_resnet50")) == 26_116_033


def test_padding_requirements() -> None:
    fpn, psp = build_model("fpn_resnet50"), build_model("pspnet_resnet50")
    assert input_multiple(fpn) == 32 and padded_size(fpn, (H, W)) == (64, 64)
    assert input_multiple(psp) == 8 and padded_size(psp, (H, W)) == (H, W)
    x = torch.zeros(1, 3, H, W)
    xp, (top, left) = pad_input(fpn, x)
    assert xp.shape[-2:] == (64, 64) and (top, left) == (8, 0)


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_logits_are_the_cropped_pre_sigmoid_output(name: str) -> None:
    model = _small(name)
    x = torch.randn(2, 3, 40, 52)  # neither dimension a multiple of 32
    with torch.inference_mode():
        logits = forward_logits(model, x)
        xp, (top, left) = pad_input(model, x)
        probs = model(xp)[:, 0, top : top + 40, left : left + 52]
    assert logits.shape == (2, 40, 52)
    torch.testing.assert_close(torch.sigmoid(logits), probs)


def test_predict_masks_is_batch_size_invariant_and_checks_input() -> None:
    model = _small("fpn_resnet50")
    images = np.random.default_rng(1).integers(0, 256, (5, H, W, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        predict_masks(model, images, batch_size=2), predict_masks(model, images, batch_size=5)
    )
    with pytest.raises(ValueError, match="uint8"):
        predict_masks(model, images.astype(np.float32))
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        predict_masks(model, images[0])


def test_input_scale_enlarges_the_input_and_averages_the_logits_back() -> None:
    torch.manual_seed(0)
    model = build_model("fpn_resnet50", encoder_depth=3, input_scale=2).eval()
    assert model_input_scale(model) == 2 and padded_size(model, (H, W)) == (96, 128)
    x = torch.randn(2, 3, H, W)
    with torch.inference_mode():
        logits = forward_logits(model, x)
        model.input_scale = 1  # same weights, fed the enlarged image by hand
        big = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        expected = F.avg_pool2d(forward_logits(model, big)[:, None], 2)[:, 0]
    assert logits.shape == (2, H, W)
    torch.testing.assert_close(logits, expected)
    psp = build_model("pspnet_resnet50", input_scale=4)
    assert padded_size(psp, (H, W)) == (4 * H, 4 * W)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_input_scale_must_be_a_positive_integer(bad: float) -> None:
    with pytest.raises(ValueError, match="input_scale"):
        build_model("pspnet_resnet50", encoder_depth=3, input_scale=bad)  # type: ignore[arg-type]


def test_default_config_is_per_model_with_overrides() -> None:
    for name, settings in MODEL_DEFAULTS.items():
        config = default_config(name)
        for field, value in settings.items():
            assert getattr(config, field) == value
    config = default_config("fpn_resnet50", epochs=1, lr=None, input_scale=3)
    assert (config.epochs, config.lr, config.input_scale) == (1, TrainConfig().lr, 3)
    with pytest.raises(KeyError, match="fpn_resnet50"):
        default_config("unet")


def test_unknown_model_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="fpn_resnet50"):
        build_model("unet_resnet18")


def test_encoder_weights_resolution_without_request_is_scratch() -> None:
    weights, note = resolve_encoder_weights("fpn_vgg19", None)
    assert weights is None and "scratch" in note
    with pytest.raises(KeyError, match="imagenet"):
        resolve_encoder_weights("fpn_vgg19", "instagram", allow_download=False)


# --- training -----------------------------------------------------------------------------


def test_segmentation_loss_values() -> None:
    target = torch.zeros(1, 4, 4)
    target[0, :2] = 1.0
    perfect = (target * 2 - 1) * 20.0
    assert float(segmentation_loss(perfect, target)) < 1e-3
    # all-zero logits: BCE = ln 2 and Dice = 1 - (2 * 4 + 1) / (8 + 8 + 1)
    expected = math.log(2) + (1 - 9 / 17)
    assert float(segmentation_loss(torch.zeros(1, 4, 4), target)) == pytest.approx(expected)
    assert float(segmentation_loss(torch.zeros(1, 4, 4), target, dice_weight=0)) == (
        pytest.approx(math.log(2))
    )
    with pytest.raises(ValueError, match="differ"):
        segmentation_loss(torch.zeros(1, 4, 4), torch.zeros(1, 4, 5))


def test_one_training_step_lowers_the_loss(tiny: dict[str, SplitArrays]) -> None:
    model = _small("fpn_resnet50").train()
    x = normalize_uint8(tiny["train"].images[:4])
    y = torch.from_numpy(tiny["train"].masks[:4].astype(np.float32))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = segmentation_loss(forward_logits(model, x), y)
    opt.zero_grad()
    before.backward()
    opt.step()
    before = before.detach()
    with torch.no_grad():
        after = segmentation_loss(forward_logits(model, x), y)
    assert float(after) < float(before)


def test_flips_move_image_and_mask_together() -> None:
    gen = torch.Generator().manual_seed(0)
    y = torch.zeros(64, 6, 8)
    y[:, 0, 0] = 1.0  # a mark in the top-left corner
    x = y[:, None].repeat(1, 3, 1, 1)
    fx, fy = random_flips(x, y, gen, hflip=True, vflip=True)
    torch.testing.assert_close(fx[:, 0], fy)
    corners = {(int(r), int(c)) for r, c in fy.nonzero()[:, 1:].tolist()}
    assert corners == {(0, 0), (0, 7), (5, 0), (5, 7)}  # 64 draws reach every corner
    same_x, same_y = random_flips(x, y, gen, hflip=False, vflip=False)
    assert torch.equal(same_x, x) and torch.equal(same_y, y)


def test_lr_schedule_warms_up_then_decays_to_zero() -> None:
    values = [lr_factor(s, 100, 0.1) for s in range(100)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(values[9:]))
    assert values[-1] < 0.01
    assert lr_factor(0, 10, 0.0) == pytest.approx(1.0)


def test_train_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="limit"):
        TrainConfig(limit=0)
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp16")
    with pytest.raises(ValueError, match="input_scale"):
        TrainConfig(input_scale=0)


def test_train_model_runs_and_restores_the_best_epoch(tiny: dict[str, SplitArrays]) -> None:
    # fp32 everywhere, so the val IoU recorded during training is the one measured afterwards
    config = TrainConfig(epochs=2, batch_size=4, limit=8, seed=3, precision="fp32")
    result = train_model(
        "pspnet_resnet50", tiny["train"], tiny["val"], config, progress=False, encoder_depth=3
    )
    assert [h["epoch"] for h in result.history] == [1, 2]
    best = max(result.history, key=lambda h: h["val_miou"])
    assert result.best_epoch == best["epoch"] and result.val_miou == best["val_miou"]
    val_now = iou_per_image(predict_masks(result.model, tiny["val"].images), tiny["val"].masks)
    assert float(val_now.mean()) == pytest.approx(result.val_miou)
    assert not result.model.training


# --- checkpoints --------------------------------------------------------------------------


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = _small("fpn_vgg19")
    config = TrainConfig(epochs=1)
    path = checkpoint_path(tmp_path, "fpn_vgg19", "abc123", config, None, encoder_depth=3)
    info = {"model": "fpn_vgg19", "encoder_depth": 3, "val_miou": 0.5, "config": config.to_dict()}
    save_checkpoint(path, model, info)
    loaded, loaded_info = load_checkpoint(path)
    assert loaded_info == info and path.with_suffix(".json").is_file()
    for (k, a), (k2, b) in zip(
        model.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert k == k2 and torch.equal(a, b)
    images = np.random.default_rng(2).integers(0, 256, (3, H, W, 3), dtype=np.uint8)
    np.testing.assert_array_equal(predict_masks(model, images), predict_masks(loaded, images))


def test_checkpoint_restores_the_input_scale(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model("pspnet_resnet50", encoder_depth=3, input_scale=2).eval()
    config = TrainConfig(epochs=1, input_scale=2)
    path = checkpoint_path(tmp_path, "pspnet_resnet50", "abc", config, None, encoder_depth=3)
    info = {"model": "pspnet_resnet50", "encoder_depth": 3, "config": config.to_dict()}
    loaded, _ = load_checkpoint(save_checkpoint(path, model, info))
    assert model_input_scale(loaded) == 2
    images = np.random.default_rng(4).integers(0, 256, (2, H, W, 3), dtype=np.uint8)
    np.testing.assert_array_equal(predict_masks(model, images), predict_masks(loaded, images))


def test_checkpoint_key_depends_on_settings(tmp_path: Path) -> None:
    a = checkpoint_path(tmp_path, "fpn_resnet50", "f", TrainConfig(epochs=1), None)
    assert a == checkpoint_path(tmp_path, "fpn_resnet50", "f", TrainConfig(epochs=1), None)
    assert a != checkpoint_path(tmp_path, "fpn_resnet50", "f", TrainConfig(epochs=2), None)
    assert a != checkpoint_path(tmp_path, "fpn_resnet50", "g", TrainConfig(epochs=1), None)
    assert a != checkpoint_path(tmp_path, "fpn_resnet50", "f", TrainConfig(epochs=1), "imagenet")


def test_missing_checkpoints_give_an_empty_list(tmp_path: Path) -> None:
    assert load_reference_models(tmp_path / "nowhere", data_fingerprint="0123") == []
    assert load_reference_models(tmp_path, data_fingerprint="0123") == []
    with pytest.raises(ValueError, match="fingerprint"):
        load_reference_models(tmp_path, data_fingerprint="")


def test_train_or_load_caches_and_reference_loader_finds_it(
    tiny_root: Path, tiny: dict[str, SplitArrays], tmp_path: Path
) -> None:
    config = TrainConfig(epochs=1, batch_size=4, limit=4)
    kwargs = dict(cache_dir=tmp_path, progress=False, splits=tiny, encoder_depth=3)
    model, info, trained = train_or_load("pspnet_resnet50", tiny_root, config, None, **kwargs)
    assert trained and info["encoder_weights"] is None and info["n_train_images"] == 4
    test = info["test"]
    assert isinstance(test, dict) and test["n_images"] == 4
    _, info2, trained2 = train_or_load("pspnet_resnet50", tiny_root, config, None, **kwargs)
    assert not trained2 and info2["checkpoint"] == info["checkpoint"]

    refs = load_reference_models(tmp_path, data_fingerprint=dataset_fingerprint(tiny_root))
    assert [r[0] for r in refs] == ["pspnet_resnet50"]
    _, ref_model, ref_info = refs[0]
    assert ref_info["val_miou"] == info["val_miou"]
    images = tiny["test"].images
    np.testing.assert_array_equal(predict_masks(ref_model, images), predict_masks(model, images))
    assert load_reference_models(tmp_path, data_fingerprint="other") == []


# --- feature maps -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_feature_layers_and_figure(name: str, tiny: dict[str, SplitArrays]) -> None:
    model = _small(name)
    layers = feature_layers(model)
    assert list(layers) == ["encoder first layer", "encoder last layer", "decoder last block"]
    first_path, first = layers["encoder first layer"]
    assert isinstance(first, torch.nn.Conv2d) and first_path.startswith("encoder.")
    # the last convolution that runs, not smp's unused deeper stages (depth 3 keeps layer4)
    expected_last = {
        "fpn_resnet50": "encoder.layer2.3.conv3",
        "fpn_vgg19": "encoder.features.25",
        "pspnet_resnet50": "encoder.layer2.3.conv3",
    }
    assert layers["encoder last layer"][0] == expected_last[name]
    fig = segmenter_feature_maps_figure(model, tiny["test"].images[0], n_maps=4)
    assert isinstance(fig, Figure)
    maps = capture_feature_maps(model, tiny["test"].images[0])
    first_stride = padded_size(model, (H, W))[0] // maps["encoder first layer"].shape[1]
    model.input_scale = 2  # the maps cover what the network sees: the enlarged, padded image
    enlarged = capture_feature_maps(model, tiny["test"].images[0])
    assert enlarged["encoder first layer"].shape[1] == padded_size(model, (H, W))[0] // first_stride
    assert enlarged["encoder first layer"].shape[1] > maps["encoder first layer"].shape[1]
    assert len([ax for ax in fig.axes if ax.images]) == 3 * 5
    with pytest.raises(ValueError, match="n_maps"):
        segmenter_feature_maps_figure(model, tiny["test"].images[0], n_maps=0)
