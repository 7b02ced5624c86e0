"""Checkpoint cache of trained supervised models: ``<cache_dir>/supervised/<model>-<dataset
fingerprint>-<settings hash>.pt`` holds ``{"state_dict", "info"}``, a ``.json`` repeats ``info``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

from common.atomic import atomic_write, atomic_write_text
from supervised.models import MODEL_SPECS, build_model
from supervised.train import TrainConfig

SUBDIR = "supervised"


def checkpoint_path(
    cache_dir: Path | str,
    name: str,
    data_fingerprint: str,
    config: TrainConfig,
    encoder_weights: str | None,
    encoder_depth: int | None = None,
) -> Path:
    """Where the checkpoint of these settings lives (it may not exist yet); its name ends in 12
    hex digits identifying model + dataset + TrainConfig + resolved weights (+ depth)."""
    payload: dict[str, object] = {
        "model": name,
        "data_fingerprint": data_fingerprint,
        "config": config.to_dict(),
        "encoder_weights": encoder_weights,
    }
    if encoder_depth is not None:
        payload["encoder_depth"] = encoder_depth
    key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]
    return Path(cache_dir) / SUBDIR / f"{name}-{data_fingerprint}-{key}.pt"


def save_checkpoint(path: Path | str, model: nn.Module, info: dict[str, object]) -> Path:
    """Write the state dict and ``info`` (JSON-serialisable) to ``path`` and ``path.json``,
    each atomically (:func:`common.atomic.atomic_write`)."""
    path = Path(path)
    text = json.dumps(info, indent=2, sort_keys=True)  # fails early on non-JSON values
    payload = {"state_dict": model.state_dict(), "info": json.loads(text)}
    atomic_write(path, lambda tmp: torch.save(payload, tmp))
    atomic_write_text(path.with_suffix(".json"), text + "\n")
    return path


def load_checkpoint(
    path: Path | str, device: torch.device | str = "cpu"
) -> tuple[nn.Module, dict[str, object]]:
    """Rebuild the model saved at ``path`` (no download needed) in eval mode, with its info."""
    blob = torch.load(path, map_location=device, weights_only=True)
    info = blob["info"]
    scale = int(info.get("config", {}).get("input_scale", 1))  # type: ignore[union-attr]
    model = build_model(str(info["model"]), None, info.get("encoder_depth"), scale)
    model.load_state_dict(blob["state_dict"])
    model.to(device).eval()
    return model, info


def load_reference_models(
    cache_dir: Path | str = "checkpoints",
    data_fingerprint: str | None = None,
    device: torch.device | str = "cpu",
) -> list[tuple[str, nn.Module, dict[str, object]]]:
    """(model name, model in eval mode, info dict) per model name (``MODEL_SPECS`` order) with
    a checkpoint for the dataset of ``data_fingerprint`` in ``cache_dir``: the one with the best
    val mean IoU."""
    if not data_fingerprint:
        raise ValueError("data_fingerprint is required (shapes.dataset_fingerprint(root))")
    out = []
    for name in MODEL_SPECS:
        paths = sorted((Path(cache_dir) / SUBDIR).glob(f"{name}-{data_fingerprint}-*.pt"))
        if not paths:
            continue
        infos = {p: json.loads(p.with_suffix(".json").read_text()) for p in paths}
        best = max(paths, key=lambda p: float(infos[p].get("val_miou", float("-inf"))))
        model, info = load_checkpoint(best, device=device)
        out.append((name, model, {**info, "checkpoint": str(best)}))
    return out
