"""Naming a model's layer on the command line: ``layer2.1``, ``layer2[-1]`` or ``layer2.-1``."""

from __future__ import annotations

import re

from torch import nn


def resolve_layer(model: nn.Module, spec: str) -> nn.Module:
    """The submodule of ``model`` named by ``spec``; indices may be negative (``layer2[-1]``).

    Raises:
        ValueError: no such submodule (the message lists the model's top-level children).
    """
    parts = [p for p in re.split(r"[.\[\]]+", spec) if p]
    module: nn.Module = model
    for part in parts:
        try:
            is_index = re.fullmatch(r"-?\d+", part)
            module = module[int(part)] if is_index else getattr(module, part)  # type: ignore[index]
        except (AttributeError, IndexError, TypeError, KeyError) as exc:
            children = ", ".join(name for name, _ in model.named_children())
            raise ValueError(
                f"no layer {spec!r} in {type(model).__name__} (top-level children: {children})"
            ) from exc
    if not isinstance(module, nn.Module):
        raise ValueError(f"{spec!r} names a {type(module).__name__}, not an nn.Module")
    return module
