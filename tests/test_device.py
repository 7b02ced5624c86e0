"""``--device``: ``auto`` is the default of every script that takes one and resolves to CUDA when
available, else the CPU; a bad value is one clear error naming it. ``auto`` precisions choose
bfloat16 only where the device computes it natively."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from classifier.train import use_bf16
from common.device import describe_device, native_bf16, resolve_device
from common.errors import UserError

ROOT = Path(__file__).resolve().parents[1]


def test_auto_follows_cuda_availability(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    assert resolve_device(" CPU ") == torch.device("cpu")


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cpu:0", "", "mps"])
def test_bad_value_is_named(spec: str) -> None:
    with pytest.raises(UserError, match=f"--device {spec!r} is not a device"):
        resolve_device(spec)


def test_cuda_without_cuda_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match="no CUDA device"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(UserError, match="has 1 CUDA device"):
        resolve_device("cuda:3")


@pytest.mark.parametrize(
    ("capability", "native"), [((7, 5), False), ((8, 0), True), ((9, 0), True)]
)
def test_bfloat16_only_where_the_gpu_computes_it(
    monkeypatch: pytest.MonkeyPatch, capability: tuple[int, int], native: bool
) -> None:
    """A T4 (7.5) only emulates bfloat16: ``auto`` keeps float32 there, for SAM's encoder and
    for training; an explicit choice is kept."""
    from sam_pipelines.sam_backend import resolve_precision

    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    cuda = torch.device("cuda")
    assert native_bf16(cuda) is native
    assert resolve_precision("auto", cuda) == ("bfloat16" if native else "float32")
    assert resolve_precision("bfloat16", cuda) == "bfloat16"
    assert use_bf16("auto", cuda) is native
    assert use_bf16("fp32", cuda) is False


def test_describe_cpu() -> None:
    assert describe_device(torch.device("cpu")).startswith("cpu (")


@pytest.mark.parametrize("name", ["compare_strategies", "train_supervised", "benchmark_sam"])
def test_scripts_default_to_auto(name: str) -> None:
    assert _load_script(name).build_parser().parse_args([]).device == "auto"


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_supervised_schedule_depends_on_the_device() -> None:
    from supervised import MODEL_DEFAULTS, MODEL_SPECS
    from supervised.schedules import device_schedule

    cli = _load_script("train_supervised")
    cpu, cuda = device_schedule(torch.device("cpu")), device_schedule(torch.device("cuda"))
    assert cpu.models == tuple(MODEL_SPECS) and cuda.models == ("fpn_resnet50",)
    args = cli.build_parser().parse_args([])
    on_cpu = cli._config(args, "fpn_resnet50", cpu)
    assert (on_cpu.input_scale, on_cpu.epochs) == (
        MODEL_DEFAULTS["fpn_resnet50"]["input_scale"],
        MODEL_DEFAULTS["fpn_resnet50"]["epochs"],
    )
    on_cuda = cli._config(args, "fpn_resnet50", cuda)
    assert (on_cuda.input_scale, on_cuda.epochs) == (4, 25)
    assert on_cuda.batch_size == on_cpu.batch_size  # batch as default
    given = cli._config(cli.build_parser().parse_args(["--epochs", "3"]), "fpn_resnet50", cuda)
    assert (given.input_scale, given.epochs) == (4, 3)  # an option beats the schedule
