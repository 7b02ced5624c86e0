"""scripts/train_supervised.py end to end on a tiny dataset (PSPNet: its encoder is shallow)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from shapes import dataset_fingerprint
from shapes.backgrounds import load_backgrounds
from shapes.generate import GenerationConfig, generate_dataset
from supervised import load_reference_models

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_supervised.py"


@pytest.fixture(scope="module")
def cli() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_supervised", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny_root(tmp_path: Path) -> Path:
    config = GenerationConfig(sizes={"train": 6, "val": 3, "test": 3})
    return generate_dataset(tmp_path / "ds", load_backgrounds("builtin"), config, progress=False)


def _run(cli: ModuleType, argv: list[str]) -> int:
    """The script's exit status for ``argv``, as ``common.cli.run`` gives it."""
    from common.cli import run

    with pytest.raises(SystemExit) as done:
        run(cli.main, cli.build_parser(), argv)
    return int(done.value.code or 0)


def test_unknown_model_exits_with_the_list(
    cli: ModuleType, tiny_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from common.cli import run

    with pytest.raises(SystemExit) as done:
        run(cli.main, cli.build_parser(), ["--data", str(tiny_root), "--models", "unet"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown --models") and "fpn_resnet50,fpn_vgg19" in err


def test_train_then_report_cached(
    cli: ModuleType, tiny_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--data", str(tiny_root), "--models", "pspnet_resnet50", "--cache-dir",
              str(tmp_path / "ckpt"), "--figures", str(tmp_path / "fig")]  # fmt: skip
    assert _run(cli, [*common, "--no-train", "--no-figures"]) == 0
    assert "no checkpoint" in capsys.readouterr().out

    args = ["--epochs", "1", "--limit", "4", "--batch-size", "2", "--offline", "--no-progress"]
    assert _run(cli, [*common, *args, "--encoder-weights", "none"]) == 0
    out = capsys.readouterr().out
    assert "from scratch" in out and "trained, saved to" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("pspnet_resnet50 ")]
    assert len(rows) == 1 and rows[0][1] == "scratch" and rows[0][3] == "1"  # init, epochs
    assert (tmp_path / "fig" / "feature_maps_pspnet_resnet50.png").is_file()

    assert _run(cli, [*common, "--no-train", "--no-figures", "--summary"]) == 0
    out = capsys.readouterr().out
    assert "Total params" in out and "test mIoU" in out
    refs = load_reference_models(tmp_path / "ckpt", data_fingerprint=dataset_fingerprint(tiny_root))
    assert [name for name, _, _ in refs] == ["pspnet_resnet50"]
    assert refs[0][2]["n_train_images"] == 4
