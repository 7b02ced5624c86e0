"""Eval-mode BatchNorm folded into the convolution before it, for the duration of a CAM call.

In eval mode ``BatchNorm2d(Conv2d(x))`` is one convolution with the weights scaled per output
channel by ``gamma / sqrt(running_var + eps)`` and a shifted bias, so the pair costs one pass
over the activations instead of two, forward and backward. :class:`BatchNormFolding` finds the
pairs once with ``torch.fx`` (a plain ``nn.Conv2d`` whose only user is a plain
``nn.BatchNorm2d`` with running statistics, each called once; subclasses that override
``forward`` are left alone), keeps the folded weights (computed in float64) until any of
the pair's tensors changes (``data_ptr`` or in-place version), and switches the modules'
forward only inside its ``with`` block; the model's own parameters are never written. A model
that ``torch.fx`` cannot trace runs unfolded (``status`` says why).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    import torch.fx


def _trace(model: nn.Module) -> torch.fx.Graph:
    """``torch.fx``'s graph of ``model`` (raises for a model it cannot trace). Modules that are
    not leaves run their ``forward`` directly, so no forward hook of the model (its caller's,
    or a CAM's) sees the tracer's proxies."""
    import torch.fx

    class HooklessTracer(torch.fx.Tracer):
        def call_module(self, m, forward, args, kwargs):
            if self.is_leaf_module(m, self.path_of_module(m)):
                return super().call_module(m, forward, args, kwargs)
            return m.forward(*args, **kwargs)

    return HooklessTracer().trace(model)


def foldable_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """(convolution name, BatchNorm name) of every foldable pair of ``model``, found in its
    ``torch.fx`` graph (raises for a model that ``torch.fx`` cannot trace)."""
    import torch.fx

    graph = _trace(model)
    modules = dict(model.named_modules())
    calls: dict[str, int] = {}
    for node in graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    pairs = []
    for node in graph.nodes:
        if node.op != "call_module" or not isinstance(modules[node.target], nn.BatchNorm2d):
            continue
        bn = modules[node.target]
        source = node.args[0] if len(node.args) == 1 and not node.kwargs else None
        if not isinstance(source, torch.fx.Node) or source.op != "call_module":
            continue
        conv = modules[source.target]
        if (
            isinstance(conv, nn.Conv2d)
            and type(conv).forward is nn.Conv2d.forward  # a subclass may compute otherwise
            and type(bn).forward is nn.BatchNorm2d.forward
            and len(source.users) == 1
            and calls[source.target] == calls[node.target] == 1
            and bn.running_mean is not None
            and bn.running_var is not None
            and bn.num_features == conv.out_channels
            and "forward" not in vars(conv)
            and "forward" not in vars(bn)
        ):
            pairs.append((str(source.target), str(node.target)))
    return pairs


def folded_weights(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[Tensor, Tensor]:
    """The weight (C_out, C_in / groups, kh, kw) and bias (C_out,) of the one convolution that
    equals ``bn(conv(x))`` in eval mode, computed in float64, returned in the weight's dtype."""
    with torch.no_grad():
        assert bn.running_mean is not None and bn.running_var is not None
        scale = torch.rsqrt(bn.running_var.double() + bn.eps)
        shift = -bn.running_mean.double() * scale
        if bn.weight is not None:
            scale = scale * bn.weight.double()
            shift = shift * bn.weight.double()
        if bn.bias is not None:
            shift = shift + bn.bias.double()
        weight = conv.weight.double() * scale[:, None, None, None]
        bias = shift if conv.bias is None else conv.bias.double() * scale + shift
        return weight.to(conv.weight.dtype), bias.to(conv.weight.dtype)


class BatchNormFolding:
    """Folds ``model``'s conv -> BatchNorm pairs inside :meth:`applied` (see the module
    docstring). ``pairs`` is None until the first use; ``status`` says what was found."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.pairs: list[tuple[str, str]] | None = None
        self.status = "not traced yet"
        self._cache: dict[str, tuple[tuple[tuple[int, int], ...], Tensor, Tensor]] = {}

    def _find_pairs(self) -> list[tuple[str, str]]:
        if self.pairs is None:
            try:
                self.pairs = foldable_pairs(self.model)
                self.status = f"{len(self.pairs)} conv -> BatchNorm pair(s) folded"
            except Exception as err:  # any tracing failure: run the model as it is
                self.pairs = []
                self.status = f"not folded: torch.fx could not trace the model ({err})"
        return self.pairs

    def _weights(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, name: str) -> tuple[Tensor, Tensor]:
        tensors = [conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var]
        key = tuple((t.data_ptr(), t._version) for t in tensors if t is not None)
        cached = self._cache.get(name)
        if cached is None or cached[0] != key:
            cached = (key, *folded_weights(conv, bn))
            self._cache[name] = cached
        return cached[1], cached[2]

    @contextmanager
    def applied(self) -> Iterator[int]:
        """Within the block each pair's convolution computes the folded one and its BatchNorm
        passes its input through (valid in eval mode only); yields the number of pairs."""
        modules = dict(self.model.named_modules())
        switched: list[nn.Module] = []
        try:
            for conv_name, bn_name in self._find_pairs():
                conv, bn = modules[conv_name], modules[bn_name]
                weight, bias = self._weights(conv, bn, conv_name)  # type: ignore[arg-type]

                def folded(module: nn.Conv2d, x: Tensor, w: Tensor = weight, b: Tensor = bias):
                    return module._conv_forward(x, w, b)

                conv.forward = types.MethodType(folded, conv)  # type: ignore[method-assign]
                switched.append(conv)
                bn.forward = types.MethodType(lambda module, x: x, bn)  # type: ignore[method-assign]
                switched.append(bn)
            yield len(switched) // 2
        finally:
            for module in switched:
                del module.forward
