"""Hot-part masking: a training-only feature mask that teaches the Grad-CAM layer to peak on
the shape.

During a training forward pass, each image's output of the Grad-CAM target layer
(``layer2[-1]``, float (B, C, h, w)) is, with probability ``prob``, zeroed at every position
whose mean over the channels is below ``threshold`` times that image's maximum; the other
images pass unchanged. The rest of the network then has to classify from the hot part alone,
so the hottest cells must hold the shape's evidence: the from-scratch classifier's Grad-CAM
argmax lands in the shape more often (README, Classifier). It is the opposite of
attention-based dropout (ADL, Choe and Shim, CVPR 2019), which drops the hot part and, measured
here, moved the argmax off the shape. Evaluation passes (``module.training`` False) and the
saved weights are untouched: the architecture stays the template's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


class HotMask:
    """Forward hook masking a layer's output to its hot part (see the module docstring).

    The coin flips come from torch's global generator (seeded by the training's
    ``torch.manual_seed``), one ``torch.rand(B)`` draw per training pass.
    """

    def __init__(self, prob: float, threshold: float) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"hot mask probability must be in [0, 1], got {prob}")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"hot mask threshold must be in [0, 1], got {threshold}")
        self.prob, self.threshold = prob, threshold

    def __call__(self, module: nn.Module, inputs: Any, output: torch.Tensor) -> torch.Tensor | None:
        """The masked float (B, C, h, w) ``output`` in training mode, else None (unchanged)."""
        if not module.training:
            return None
        heat = output.mean(1, keepdim=True)
        peak = heat.flatten(1).max(1).values.view(-1, 1, 1, 1)
        hot = (heat >= self.threshold * peak).to(output.dtype)
        n = output.shape[0]
        masked = (torch.rand(n, 1, 1, 1, device=output.device) < self.prob).to(output.dtype)
        return output * (masked * hot + (1 - masked))


@contextmanager
def hot_mask(layer: nn.Module, prob: float, threshold: float) -> Iterator[None]:
    """Mask ``layer``'s output to its hot part (:class:`HotMask`) inside the ``with`` block; no
    hook at all when ``prob`` is 0. The hook is removed on exit, also on errors."""
    if prob == 0.0:
        yield
        return
    handle = layer.register_forward_hook(HotMask(prob, threshold))
    try:
        yield
    finally:
        handle.remove()
