"""Classifier training, its checkpoint cache and the from-scratch recipe (tiny, fast runs)."""

from __future__ import annotations

import itertools
import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import classifier.train as train_mod
from classifier import (
    SCRATCH,
    CheckpointError,
    TrainConfig,
    TrainingInfo,
    build_classifier,
    load_checkpoint,
    load_or_train,
    train_classifier,
)
from classifier.cache import checkpoint_path
from classifier.hot_mask import HotMask, hot_mask
from classifier.localisation import argmax_inside, cam_argmax_hit_rate, spread_subset
from classifier.recipe import difficulty, draw_batch, interpolate_style, learning_rate
from classifier.train import resolve_data_settings
from shapes import SyntheticData, dataset_fingerprint
from shapes.backgrounds import load_backgrounds
from shapes.draw import ShapeStyle
from shapes.generate import GenerationConfig, generate_dataset
from shapes.stress import ContrastStyle

TINY = TrainConfig.tiny(channels_last=False)


@pytest.fixture(scope="session")
def bank():
    return load_backgrounds("builtin")


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory, bank) -> Path:
    root = tmp_path_factory.mktemp("clf") / "ds"
    sizes = {"train": 40, "val": 10, "test": 10}
    config = GenerationConfig(seed=3, sizes=sizes, hw=(24, 32))  # small images: fast tests
    return generate_dataset(root, bank, config, progress=False)


@pytest.fixture(scope="session")
def trained(tiny_root, tmp_path_factory):
    """One tiny training, cached; tests copy the cache folder before changing it."""
    cache = tmp_path_factory.mktemp("cache")
    model, info = load_or_train(tiny_root, TINY, cache_dir=cache, progress=False)
    return cache, model, info


def _probe(root: Path) -> torch.Tensor:
    from shapes.transforms import normalize_uint8

    return normalize_uint8(SyntheticData(root, "val").arrays().images[:4])


# --- settings -------------------------------------------------------------------------


def test_config_round_trips_through_json():
    cfg = TrainConfig(lr=3e-3, easy_style=ShapeStyle(size_range=(10.0, 12.0)))
    again = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg


@pytest.mark.parametrize(
    "bad",
    [
        {"recipe": "magic"},
        {"steps": 0},
        {"fixed_fraction": 1.5},
        {"curriculum": "x"},
        {"hot_mask_prob": 1.5},
        {"hot_mask_threshold": -0.1},
    ],
)
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        TrainConfig(**bad)


def test_from_dict_names_unknown_fields():
    with pytest.raises(ValueError, match="nonsense"):
        TrainConfig.from_dict({"nonsense": 1})


def test_settings_saved_before_the_hot_mask_mean_no_hot_mask():
    saved = TrainConfig().to_dict()
    del saved["hot_mask_prob"]
    assert TrainConfig.from_dict(saved).hot_mask_prob == 0.0
    assert TrainConfig().hot_mask_prob == 0.5  # today's recipe masks


# --- hot-part masking -------------------------------------------------------------------


def _feature_map() -> torch.Tensor:
    """(2, 2, 2, 3) features whose channel means are known: image 0 [[0, 1, 4], [2, 3, 4]],
    image 1 all 1 (nothing below half its maximum)."""
    means = torch.tensor([[[0.0, 1.0, 4.0], [2.0, 3.0, 4.0]], [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]])
    offset = torch.tensor([-1.0, 1.0]).view(1, 2, 1, 1)  # channels differ, their mean does not
    return means[:, None] + offset


def test_hot_mask_keeps_only_the_hot_part_while_training():
    layer = torch.nn.Identity()
    x = _feature_map()
    with hot_mask(layer, prob=1.0, threshold=0.5):
        layer.train()
        out = layer(x)
        layer.eval()
        np.testing.assert_array_equal(layer(x).numpy(), x.numpy())  # evaluation: untouched
    keep = torch.tensor([[[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]], [[1.0] * 3] * 2])  # mean >= 2
    np.testing.assert_array_equal(out.numpy(), (x * keep[:, None]).numpy())
    assert not layer._forward_hooks  # removed on exit
    layer.train()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())


def test_hot_mask_draws_its_coin_per_image_and_is_off_at_zero():
    layer = torch.nn.Identity().train()
    x = _feature_map().repeat(200, 1, 1, 1)
    torch.manual_seed(0)
    with hot_mask(layer, prob=0.25, threshold=0.5):
        out = layer(x)
    masked = (out[0::2, :, 0, 0] == 0).all(1).float()  # image 0's coldest cell zeroed or not
    assert 0.15 < masked.mean().item() < 0.35
    with hot_mask(layer, prob=0.0, threshold=0.5):
        assert not layer._forward_hooks
    with pytest.raises(RuntimeError), hot_mask(layer, prob=1.0, threshold=0.5):
        raise RuntimeError("a failing training step")
    assert not layer._forward_hooks
    with pytest.raises(ValueError, match="threshold"):
        HotMask(prob=0.5, threshold=2.0)


def test_training_masks_the_cam_layer_and_leaves_no_hook(tiny_root):
    cfg = replace(TINY, steps=3, eval_every=3)
    # threshold 1 keeps only each map's peak: at threshold 0.5 the tiny model's 3 x 4 maps
    # can have no cell below half the peak during these 3 steps (seen on one CPU), and then
    # the mask would change nothing
    strict = replace(cfg, hot_mask_prob=1.0, hot_mask_threshold=1.0)
    masked, _ = train_classifier(tiny_root, strict, progress=False)
    plain, _ = train_classifier(tiny_root, replace(cfg, hot_mask_prob=0.0), progress=False)
    assert not masked.layer2[-1]._forward_hooks and not masked.layer2._forward_hooks
    sm, sp = masked.state_dict(), plain.state_dict()
    assert not all(torch.equal(sm[k], sp[k]) for k in sm)  # the mask changed the training


# --- schedules and batches ------------------------------------------------------------


def test_difficulty_ramps_from_easy_to_real():
    cfg = TrainConfig(easy_steps=10, anneal_steps=20)
    assert difficulty(0, cfg) == 0.0
    assert difficulty(9, cfg) == 0.0
    assert 0.0 < difficulty(15, cfg) < 1.0
    assert difficulty(29, cfg) == 1.0
    assert difficulty(500, cfg) == 1.0


def test_learning_rate_warms_up_holds_and_decays_to_zero():
    cfg = TrainConfig(steps=100, lr=1e-2, warmup_steps=10, decay_start=0.5)
    lrs = [learning_rate(s, cfg) for s in range(100)]
    assert lrs[0] == pytest.approx(1e-3)
    assert lrs[9] == pytest.approx(1e-2)
    assert lrs[30] == pytest.approx(1e-2)
    assert all(a >= b for a, b in itertools.pairwise(lrs[50:]))
    assert lrs[-1] < 1e-4


def test_interpolate_style_endpoints():
    easy, real = TrainConfig().easy_style, ShapeStyle()
    assert interpolate_style(easy, real, 0.0) == easy
    assert interpolate_style(easy, real, 1.0) == real
    mid = interpolate_style(easy, real, 0.5)
    assert mid.size_range == pytest.approx((12.0, 22.0))


def test_fresh_samples_follow_the_datasets_own_style(tmp_path, bank):
    style = ShapeStyle(size_range=(6.0, 9.0), alpha_range=(0.3, 0.5), opaque_prob=0.0)
    contrast = ContrastStyle(background_contrast=0.0)
    sizes = {"train": 4, "val": 2, "test": 2}
    gen = GenerationConfig(seed=1, sizes=sizes, hw=(24, 32), style=style, contrast=contrast)
    root = generate_dataset(tmp_path / "faint", bank, gen, progress=False)
    resolved = resolve_data_settings(root, TINY)
    assert resolved.real_style == style and resolved.real_contrast == contrast
    kept = resolve_data_settings(root, replace(TINY, real_style=ShapeStyle()))
    assert kept.real_style == ShapeStyle() and kept.real_contrast == contrast  # set: kept
    (root / "generation.json").unlink()
    plain = resolve_data_settings(root, TINY)
    assert plain.real_style == ShapeStyle() and plain.real_contrast == ContrastStyle()
    # the real part of a batch is drawn in that style: flat backgrounds, so few colours
    cfg = replace(resolved, batch_size=8, easy_steps=0, anneal_steps=0, fixed_fraction=0.0)
    flat, _, _ = draw_batch(0, cfg, bank.train, (24, 32), None, None, np.random.default_rng(0))
    busy, _, _ = draw_batch(
        0,
        replace(cfg, real_contrast=ContrastStyle()),
        bank.train,
        (24, 32),
        None,
        None,
        np.random.default_rng(0),
    )
    colours = [len(np.unique(im.reshape(-1, 3), axis=0)) for im in (*flat, *busy)]
    assert max(colours[:8]) < min(colours[8:])


def test_unusable_generation_json_is_named(tmp_path, tiny_root):
    root = tmp_path / "ds"
    shutil.copytree(tiny_root, root)
    meta = json.loads((root / "generation.json").read_text())
    (root / "generation.json").write_text(json.dumps({**meta, "contrast": {"glow": 1}}))
    with pytest.raises(ValueError, match=r"generation\.json has an unusable style"):
        resolve_data_settings(root, TINY)


def test_draw_batch_takes_the_fixed_share_from_the_train_split(bank, tiny_root):
    train = SyntheticData(tiny_root, "train").arrays()
    cfg = TrainConfig(batch_size=16, easy_steps=0, anneal_steps=0, fixed_fraction=1.0)
    images, labels, _ = draw_batch(
        0, cfg, bank.train, (24, 32), train.images, train.labels, np.random.default_rng(0)
    )
    assert images.shape == (16, 24, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    known = {im.tobytes(): lab for im, lab in zip(train.images, train.labels, strict=True)}
    known.update(
        {im[:, ::-1].tobytes(): lab for im, lab in zip(train.images, train.labels, strict=True)}
    )
    for img, lab in zip(images, labels, strict=True):
        assert known[img.tobytes()] == lab  # every image is a (flipped) train image


def test_draw_batch_is_fresh_only_during_the_easy_phase(bank, tiny_root):
    train = SyntheticData(tiny_root, "train").arrays()
    cfg = TrainConfig(batch_size=16, easy_steps=5, fixed_fraction=1.0)
    images, labels, level = draw_batch(
        0, cfg, bank.train, (24, 32), train.images, train.labels, np.random.default_rng(0)
    )
    known = {im.tobytes() for im in train.images}
    assert not any(img.tobytes() in known for img in images)
    assert level == 0.0
    assert set(labels.tolist()) <= set(range(5))


# --- training -------------------------------------------------------------------------


def test_training_lowers_the_loss(tiny_root):
    """Memorising a handful of fixed images: the curve's loss must fall."""
    cfg = TrainConfig.tiny(
        channels_last=False,
        steps=16,
        eval_every=8,
        easy_steps=0,
        anneal_steps=0,
        fixed_fraction=1.0,
        label_smoothing=0.0,
        lr=1e-3,
        batch_size=10,
        warmup_steps=1,
    )
    _, info = train_classifier(tiny_root, cfg, progress=False)
    losses = [p[1] for p in info.curve]
    assert [p[0] for p in info.curve] == [8, 16]
    assert losses[-1] < losses[0]
    assert 0.0 <= info.test_accuracy <= 1.0
    assert info.recipe == SCRATCH and not info.imagenet_weights


def test_same_seed_gives_identical_weights(tiny_root):
    cfg = replace(TINY, steps=3, eval_every=3)
    a, _ = train_classifier(tiny_root, cfg, progress=False)
    b, _ = train_classifier(tiny_root, cfg, progress=False)
    c, _ = train_classifier(tiny_root, replace(cfg, seed=1), progress=False)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_finetune_recipe_runs_the_template_loop(tiny_root, monkeypatch):
    """The ImageNet path with a stand-in for the (offline-unavailable) weights."""
    monkeypatch.setattr(
        train_mod,
        "build_classifier",
        lambda imagenet_weights=False: build_classifier(imagenet_weights=False),
    )
    cfg = replace(TINY, recipe="imagenet-finetune", finetune_epochs=2)
    model, info = train_classifier(
        tiny_root, cfg, progress=False, recipe=("imagenet-finetune", "stand-in weights")
    )
    assert info.imagenet_weights and info.recipe == "imagenet-finetune"
    assert [p[0] for p in info.curve] == [5, 10]  # 40 images / batch 8, one point per epoch
    assert not model.training


def test_auto_falls_back_to_scratch_without_imagenet_weights(monkeypatch):
    monkeypatch.setattr(
        train_mod, "find_imagenet_weights", lambda try_download=True: (False, "no weights here")
    )
    name, note = train_mod.resolve_recipe(TrainConfig(recipe="auto"))
    assert name == SCRATCH and "no weights here" in note and "scratch" in note
    with pytest.raises(RuntimeError, match="needs ImageNet weights"):
        train_mod.resolve_recipe(TrainConfig(recipe="imagenet-finetune"))


# --- checkpoint cache -----------------------------------------------------------------


def test_second_call_loads_the_identical_model(trained, tiny_root):
    cache, model, info = trained
    assert not info.from_cache and Path(info.checkpoint).is_file()
    assert Path(info.checkpoint).with_suffix(".json").is_file()
    again, info2 = load_or_train(tiny_root, TINY, cache_dir=cache, progress=False)
    assert info2.from_cache and not again.training
    assert info2.test_accuracy == info.test_accuracy and info2.curve == info.curve
    x = _probe(tiny_root)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))


def test_sidecar_json_holds_settings_and_curve(trained):
    _, _, info = trained
    meta = json.loads(Path(info.checkpoint).with_suffix(".json").read_text())
    resolved = replace(TINY, backgrounds="builtin", real_style=ShapeStyle())
    assert TrainConfig.from_dict(meta["config"]) == replace(resolved, real_contrast=ContrastStyle())
    assert TrainingInfo.from_dict(meta).curve == info.curve


def test_corrupt_checkpoint_is_retrained_with_a_message(trained, tiny_root, tmp_path, caplog):
    cache = tmp_path / "cache"
    shutil.copytree(trained[0], cache)
    path = cache / Path(trained[2].checkpoint).name
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    with caplog.at_level(logging.WARNING):
        _, info = load_or_train(tiny_root, TINY, cache_dir=cache, progress=False)
    assert "cannot read checkpoint" in caplog.text and "retraining" in caplog.text
    assert not info.from_cache
    _, info = load_or_train(tiny_root, TINY, cache_dir=cache, progress=False)
    assert info.from_cache  # the retrained checkpoint replaced the corrupt one


def test_checkpoint_for_other_settings_is_not_used(trained, tiny_root, tmp_path, caplog):
    cache = tmp_path / "cache"
    cache.mkdir()
    other = resolve_data_settings(tiny_root, replace(TINY, seed=7))
    fp = dataset_fingerprint(tiny_root)
    shutil.copy(trained[2].checkpoint, checkpoint_path(cache, fp, SCRATCH, other))  # stale file
    with caplog.at_level(logging.WARNING):
        _, info = load_or_train(tiny_root, other, cache_dir=cache, progress=False)
    assert "made for another config" in caplog.text and "retraining" in caplog.text
    assert not info.from_cache and info.config["seed"] == 7


def test_checkpoint_saved_before_a_config_field_existed_still_loads(trained, tmp_path):
    from classifier.loading import load_classifier_checkpoint

    path = tmp_path / Path(trained[2].checkpoint).name
    payload = torch.load(trained[2].checkpoint, weights_only=True)
    del payload["config"]["real_contrast"]  # as written before the field was added
    torch.save(payload, path)
    meta = json.loads(Path(trained[2].checkpoint).with_suffix(".json").read_text())
    del meta["config"]["real_contrast"]
    path.with_suffix(".json").write_text(json.dumps(meta))
    _, info = load_classifier_checkpoint(path, None)
    assert info.test_accuracy == trained[2].test_accuracy
    older = {k: v for k, v in payload["config"].items() if k != "hot_mask_prob"}
    old_config = TrainConfig.from_dict(older)
    recipe = trained[2].recipe
    torch.save({**payload, "config": older}, path)
    load_checkpoint(path, None, recipe, old_config)  # saved before the mask: trained without it
    with pytest.raises(CheckpointError, match="another config"):
        load_checkpoint(path, None, recipe, replace(old_config, hot_mask_prob=0.5))
    payload["config"]["seed"] = 99  # a stored value that differs is still refused
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="another config"):
        load_classifier_checkpoint(path, None)


def test_checkpoint_of_another_dataset_is_rejected(trained):
    info = trained[2]
    cfg = TrainConfig.from_dict(info.config)
    with pytest.raises(CheckpointError, match="another fingerprint"):
        load_checkpoint(Path(info.checkpoint), "0" * 16, SCRATCH, cfg)


def test_changed_dataset_trains_a_new_checkpoint(trained, tiny_root, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(tiny_root, root)
    label = sorted((root / "labels" / "train").glob("*.txt"))[0]
    label.write_text("star\n" if label.read_text().strip() != "star" else "circle\n")
    cache = tmp_path / "cache"
    shutil.copytree(trained[0], cache)
    _, info = load_or_train(root, TINY, cache_dir=cache, progress=False)
    assert not info.from_cache and info.fingerprint != trained[2].fingerprint
    assert len(list(cache.glob("*.pt"))) == 2


# --- localisation: the Grad-CAM argmax hit rate reported beside the accuracy --------------


def test_argmax_inside_reads_the_first_row_major_maximum():
    maps = np.zeros((3, 4, 5), dtype=np.float32)
    maps[0, 1, 2] = 1.0  # inside
    maps[1, 3, 4] = 1.0  # outside
    maps[2, 0, 3] = maps[2, 2, 1] = 1.0  # tie: (X 3, Y 0) comes first in row-major order
    masks = np.zeros((3, 4, 5), dtype=bool)
    masks[0, 1, 2] = masks[1, 0, 0] = masks[2, 0, 3] = True
    assert argmax_inside(maps, masks).tolist() == [True, False, True]
    with pytest.raises(ValueError, match="must both be"):
        argmax_inside(maps, masks[:, :3])


def test_training_reports_the_cam_hit_rate_of_the_kept_weights(tiny_root):
    cfg = replace(TINY, steps=6, eval_every=2, cam_select_weight=1.0, cam_eval_images=4)
    model, info = train_classifier(tiny_root, cfg, progress=False)
    val = SyntheticData(tiny_root, "val").arrays()
    test = SyntheticData(tiny_root, "test").arrays()
    assert info.val_cam_hit == cam_argmax_hit_rate(model, val)
    assert info.test_cam_hit == cam_argmax_hit_rate(model, test)
    assert all(len(point) == 5 for point in info.curve)
    assert all(round(p[4] * 4) == p[4] * 4 for p in info.curve)  # measured on 4 val images
    scores = [round(p[3] + p[4], 5) for p in info.curve]  # accuracy + 1.0 x CAM hit rate
    last_best = max(i for i, s in enumerate(scores) if s == max(scores))
    assert info.best_step == info.curve[last_best][0]


def test_cam_select_weight_must_not_be_negative():
    with pytest.raises(ValueError, match="cam_select_weight"):
        TrainConfig(cam_select_weight=-0.5)


def test_spread_subset_takes_evenly_spaced_items(tiny_root):
    val = SyntheticData(tiny_root, "val").arrays()
    assert spread_subset(val, 4).names == tuple(val.names[i] for i in (0, 3, 6, 9))
    assert spread_subset(val, 50) is val
