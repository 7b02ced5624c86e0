"""Issue 13 end to end: each user mistake fails before the expensive work with one line
``error: ...`` (exit 2), result files are written together, broken cache entries are
reported, deleted and recomputed, and a test split alone can be evaluated.

The scripts run in-process through :func:`common.cli.run` (as ``python scripts/X.py`` does)."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from common.cli import run

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(name: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """(exit status, stderr) of ``scripts/<name>.py argv``."""
    module = _script(name)
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        run(module.main, module.build_parser(), argv)
    return int(done.value.code or 0), capsys.readouterr().err


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny dataset ``ds`` and a tiny classifier trained on it in ``ck``."""
    from classifier import TrainConfig, load_or_train
    from shapes.generate import GenerationConfig, generate_dataset

    work = tmp_path_factory.mktemp("failfast")
    rng = np.random.default_rng(0)
    from shapes.backgrounds import BackgroundBank

    pool = rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    bank = BackgroundBank(pool, pool, "random")
    sizes = {"train": 16, "val": 6, "test": 6}
    generate_dataset(work / "ds", bank, GenerationConfig(sizes=sizes), progress=False)
    load_or_train(work / "ds", TrainConfig.tiny(), cache_dir=work / "ck", progress=False)
    return work


def _checkpoint(work: Path) -> Path:
    return next((work / "ck").glob("resnet18_*.pt"))


def _compare_args(work: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--segmenter",
        "flood_fill",
        "--strategies",
        "center",
        "--no-variants",
        "--no-supervised",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--checkpoints",
        str(tmp_path / "ck"),
        "--out",
        str(tmp_path / "out"),
        *extra,
    ]


def _checkpoint_args(work: Path, tmp_path: Path, data: Path) -> list[str]:
    """:func:`_compare_args` on ``data`` with the cached tiny classifier's checkpoint."""
    return _compare_args(
        work, tmp_path, "--data", str(data), "--classifier-checkpoint", str(_checkpoint(work))
    )


def test_mistyped_data_is_an_error_not_a_generation(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = _run(
        "compare_strategies", _compare_args(work, tmp_path, "--data", str(work / "dz")), capsys
    )
    assert status == 2
    assert err == (
        f"error: --data {work / 'dz'} does not exist; check the path, or pass --generate to "
        "generate a dataset there\n"
    )
    assert not (work / "dz").exists() and not (tmp_path / "ck").exists()


def test_generation_only_at_the_default_location_or_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evaluation.compare
    from common.errors import UserError
    from evaluation.compare import CompareConfig, ensure_dataset

    made: list[Path] = []
    monkeypatch.setattr(evaluation.compare, "load_backgrounds", lambda *a, **k: None)
    monkeypatch.setattr(
        evaluation.compare, "generate_dataset", lambda out, *a, **k: made.append(out)
    )
    monkeypatch.chdir(tmp_path)
    ensure_dataset(CompareConfig())  # the default location
    ensure_dataset(CompareConfig(data=Path("elsewhere"), generate=True))
    assert made == [Path("data/synthetic_shapes"), Path("elsewhere")]
    with pytest.raises(UserError, match="does not exist"):
        ensure_dataset(CompareConfig(data=Path("elsewhere")))
    (tmp_path / "notes").mkdir()
    with pytest.raises(UserError, match="not a dataset in the course layout"):
        ensure_dataset(CompareConfig(data=Path("notes"), generate=True))


def test_classifier_data_must_be_a_dataset_and_not_come_with_a_checkpoint(tmp_path: Path) -> None:
    from common.errors import UserError
    from evaluation.compare import CompareConfig, classifier_dataset

    root = tmp_path / "draw"
    assert classifier_dataset(CompareConfig(), root) == root  # no --classifier-data: --data's
    (tmp_path / "notes").mkdir()
    message = f"--classifier-data {tmp_path / 'notes'} is not a dataset in the course layout"
    with pytest.raises(UserError, match=re.escape(message)):
        classifier_dataset(CompareConfig(classifier_data=tmp_path / "notes"), root)
    (tmp_path / "ds" / "images").mkdir(parents=True)
    given = CompareConfig(classifier_data=tmp_path / "ds")
    assert classifier_dataset(given, root) == tmp_path / "ds"
    both = CompareConfig(classifier_data=tmp_path / "ds", classifier_checkpoint=tmp_path / "c.pt")
    with pytest.raises(UserError, match="name two classifiers"):
        classifier_dataset(both, root)


def test_every_strategy_pattern_must_match(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _compare_args(work, tmp_path, "--data", str(work / "ds"))
    args.insert(args.index("center") + 1, "centr")
    status, err = _run("compare_strategies", args, capsys)
    assert status == 2
    assert err.startswith("error: unknown --strategies pattern 'centr'. Did you mean 'center'?")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--limit", "0", "error: --limit must be >= 1, got 0\n"),
        ("--batch-size", "0", "error: --batch-size must be >= 1, got 0\n"),
        ("--split", "tst", "error: --split must be one of train, val, test, got 'tst'\n"),
    ],
)
def test_bad_numbers_are_refused_up_front(
    work: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    args = _compare_args(work, tmp_path, "--data", str(work / "ds"), option, value)
    assert _run("compare_strategies", args, capsys) == (2, message)


def test_out_is_probed_before_any_work(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder")
    for out, text in ((a_file, "is a file, not a folder"), (a_file / "sub", "not a writable")):
        args = _compare_args(work, tmp_path, "--data", str(work / "ds"), "--out", str(out))
        status, err = _run("compare_strategies", args, capsys)
        assert status == 2 and err.startswith(f"error: --out {out} ") and text in err
    assert not (tmp_path / "ck").exists() and not (tmp_path / "cache").exists()
    assert a_file.read_text() == "not a folder"


def test_corrupt_test_png_is_found_before_training(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "ds"
    shutil.copytree(work / "ds", data)
    bad = data / "images" / "test" / "00003.png"
    bad.write_bytes(bad.read_bytes()[:-40])
    status, err = _run(
        "compare_strategies", _compare_args(work, tmp_path, "--data", str(data)), capsys
    )
    assert status == 2
    assert err.startswith(f"error: cannot read image {bad}: ")
    assert not (tmp_path / "ck").exists()  # no classifier was trained


def test_results_are_written_together(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from evaluation.predictions import Predictions

    args = _checkpoint_args(work, tmp_path, work / "ds")
    assert _run("compare_strategies", args, capsys)[0] == 0
    out = tmp_path / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {"metrics.json", "predictions.npz", "per_image.csv"} <= set(before)

    def fail(self: Predictions, path: Path) -> Path:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(Predictions, "save", fail)
    status, err = _run("compare_strategies", [*args, "--limit", "2"], capsys)
    assert status == 2 and "No space left on device" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # old set, untouched


def test_broken_cam_cache_entry_is_reported_deleted_and_recomputed(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # unmoved maps: no val CAMs for the offset, so the test split's is the only cache entry
    args = [*_checkpoint_args(work, tmp_path, work / "ds"), "--heat-offset", "none"]
    assert _run("compare_strategies", args, capsys)[0] == 0
    (entry,) = (tmp_path / "cache" / "cams").glob("*.npy")
    good = np.load(entry)
    entry.write_bytes(entry.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        assert _run("compare_strategies", args, capsys)[0] == 0
    assert f"unreadable CAM cache entry {entry}" in caplog.text
    np.testing.assert_array_equal(np.load(entry), good)
    assert sorted(p.name for p in entry.parent.iterdir()) == [entry.name]


def test_aug_smooth_cams_have_their_own_cache_entry_and_are_recorded(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*_checkpoint_args(work, tmp_path, work / "ds"), "--heat-offset", "none"]
    assert _run("compare_strategies", args, capsys)[0] == 0
    (plain,) = (tmp_path / "cache" / "cams").glob("*.npy")
    assert _run("compare_strategies", [*args, "--cam-aug-smooth"], capsys)[0] == 0
    entries = sorted((tmp_path / "cache" / "cams").glob("*.npy"))
    assert len(entries) == 2 and plain in entries
    (smooth,) = [e for e in entries if e != plain]
    assert not np.allclose(np.load(smooth), np.load(plain), atol=0.05)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["settings"]["config"]["cam_aug_smooth"] is True


def test_a_test_split_alone_is_evaluated_with_a_given_classifier(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "test_only"
    for kind in ("images", "masks", "labels"):
        shutil.copytree(work / "ds" / kind / "test", data / kind / "test")
    status, err = _run(
        "compare_strategies", _compare_args(work, tmp_path, "--data", str(data)), capsys
    )
    assert status == 2
    assert err == (
        f"error: {data} has no train / val split, which training the classifier needs; give a "
        "trained one with --classifier-checkpoint, or the dataset it was trained on with "
        "--classifier-data\n"
    )
    args = _checkpoint_args(work, tmp_path, data)
    status, err = _run("compare_strategies", args, capsys)
    assert status == 0, err
    assert "has only the test split(s)" in err
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["settings"]["dataset"]["n_images"] == 6
    # no val split: the offset is looked for on the evaluated images (too few here: not moved)
    assert "6 test images" in metrics["settings"]["heat_offset"]["how"]


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ('{"config": {"steps"', "mine.json: Expecting ':' delimiter"),
        ('{"format": 0, "settings": {}}', "is not a classifier settings file of this version"),
        ('{"config": {"no_such_field": 1}, "recipe": "x"}', "holds settings of another version"),
    ],
)
def test_broken_checkpoint_sidecar_is_named(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], sidecar: str, message: str
) -> None:
    ckpt = tmp_path / "mine.pt"
    shutil.copy(_checkpoint(work), ckpt)
    ckpt.with_suffix(".json").write_text(sidecar)
    args = _compare_args(
        work, tmp_path, "--data", str(work / "ds"), "--classifier-checkpoint", str(ckpt)
    )
    status, err = _run("compare_strategies", args, capsys)
    assert status == 2 and err.startswith("error: ") and message in err
    assert str(ckpt.with_suffix(".json")) in err


def test_broken_classifier_checkpoint_is_deleted_and_retrained(
    work: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from classifier import TrainConfig, load_or_train

    shutil.copytree(work / "ck", tmp_path / "ck")
    ckpt = next((tmp_path / "ck").glob("resnet18_*.pt"))
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING):
        _, info = load_or_train(
            work / "ds", TrainConfig.tiny(), cache_dir=tmp_path / "ck", progress=False
        )
    assert f"cannot read checkpoint {ckpt}" in caplog.text and "deleted, retraining" in caplog.text
    assert not info.from_cache and ckpt.stat().st_size > 1000


def test_broken_embedding_cache_entry_is_a_miss(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import torch

    from sam_pipelines.embedding_cache import CachedEmbedding, EmbeddingCache

    cache = EmbeddingCache(directory=tmp_path)
    cache.put("k", CachedEmbedding(torch.ones(1, 2, 4, 4), (8, 8), (6, 8)))
    (path,) = tmp_path.glob("*.pt")
    path.write_bytes(path.read_bytes()[:50])
    fresh = EmbeddingCache(directory=tmp_path)
    with caplog.at_level(logging.WARNING):
        assert fresh.get("k") is None
    assert fresh.misses == 1 and not path.exists()
    assert f"unreadable embedding cache entry {path}" in caplog.text


# ------------------------------------------------------------------------- other scripts
def test_train_classifier_errors_are_one_line(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = _run("train_classifier", ["--data", str(tmp_path / "nope")], capsys)
    assert status == 2 and err.startswith(f"error: --data {tmp_path / 'nope'} does not exist")
    status, err = _run("train_classifier", ["--batch-size", "0"], capsys)
    assert status == 2 and "argument --batch-size: must be >= 1, got 0" in err
    status, err = _run("train_classifier", ["--set", "steps=0", "--data", str(work / "ds")], capsys)
    assert status == 2 and "error: bad training settings" in err and "steps" in err
    empty = tmp_path / "bg.npz"
    empty.write_bytes(b"")
    argv = ["--data", str(work / "ds"), "--tiny", "--out", str(tmp_path / "ck")]
    status, err = _run("train_classifier", [*argv, "--backgrounds", str(empty)], capsys)
    assert status == 2 and err.startswith(f"error: cannot read backgrounds {empty}")
    assert "Traceback" not in err


def test_train_classifier_warns_when_the_classifier_is_at_chance(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from classifier.chance import chance_warning

    module = _script("train_classifier")
    argv = ["--data", str(work / "ds"), "--tiny", "--out", str(work / "ck"), "--no-progress"]
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        run(module.main, module.build_parser(), argv)
    out = capsys.readouterr().out
    assert not done.value.code and "loaded from cache" in out
    accuracy = float(out.split("test accuracy: ")[1].split(" %")[0]) / 100
    warning = chance_warning(accuracy, 6, "the 6 test images")
    assert (warning is not None) == ("not above chance" in out)
    if warning is not None:
        assert f"warning: {warning}" in out


@pytest.mark.parametrize("broken", ["metrics_truncated", "metrics_old", "predictions_truncated"])
def test_make_figures_names_the_broken_result_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str
) -> None:
    from fake_results import write_fake_results

    results = write_fake_results(tmp_path / "res", n_images=4, seed=0)
    if broken == "metrics_truncated":
        path = results / "metrics.json"
        path.write_text(path.read_text()[:200])
        expected = f"error: cannot read {path}: "
    elif broken == "metrics_old":
        path = results / "metrics.json"
        path.write_text(json.dumps({"rows": [{"name": "x"}]}))
        expected = f"error: {path} is not a results file of this version"
    else:
        path = results / "predictions.npz"
        path.write_bytes(path.read_bytes()[:300])
        expected = f"error: cannot read {path}: "
    argv = ["--results", str(results), "--out", str(tmp_path / "figs"), "--no-feature-maps"]
    status, err = _run("make_figures", argv, capsys)
    assert status == 2 and err.startswith(expected) and "rerun" in err, err
