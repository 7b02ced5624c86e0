"""The CAM methods: each is one small subclass of `BaseCAM` saying how channels are weighted."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from cam.base import BaseCAM


class GradCAM(BaseCAM):
    """Grad-CAM (Selvaraju et al., 2017, https://arxiv.org/abs/1610.02391).

    The weight of channel k is the spatial mean of d(score) / d(A_k) (the paper's alpha_k^c,
    eq. 1); the map is ReLU(sum_k alpha_k A_k) (eq. 2), of the pre-softmax class score.
    """

    def channel_weights(self, activations: Tensor, gradients: Tensor) -> Tensor:
        """Spatial mean of the gradients: (B, C, h, w) -> (B, C)."""
        return gradients.mean(dim=(2, 3))


class GradCAMPlusPlus(BaseCAM):
    """Grad-CAM++ (Chattopadhay et al., 2018, https://arxiv.org/abs/1710.11063): channel weight
    w_k = sum_ij alpha_ij^k ReLU(g_ij^k), alpha_ij^k = g^2 / (2 g^2 + (sum_ab A_ab^k) g^3) (eq. 19,
    0 where the denominator is 0), g = d(score) / d(A_ij^k).
    """

    def __init__(
        self,
        model: nn.Module,
        target_layers: Iterable[nn.Module],
        eps: float = 0.0,
        *,
        aug_smooth: bool = False,
        offset: tuple[float, float] = (0.0, 0.0),
        cpu_channels_last: bool = True,
        fold_batchnorm: bool = True,
    ) -> None:
        """``eps`` is added to alpha's denominator: 0 is the paper's formula; pytorch-grad-cam's
        1e-6 is not negligible for small gradients (not scale invariant). ``aug_smooth``,
        ``offset``, ``cpu_channels_last`` and ``fold_batchnorm``: see `BaseCAM`."""
        super().__init__(
            model,
            target_layers,
            aug_smooth=aug_smooth,
            offset=offset,
            cpu_channels_last=cpu_channels_last,
            fold_batchnorm=fold_batchnorm,
        )
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.eps = float(eps)

    def channel_weights(self, activations: Tensor, gradients: Tensor) -> Tensor:
        """Eq. 19 of the paper: (B, C, h, w) -> (B, C)."""
        g2 = gradients * gradients
        g3 = g2 * gradients
        total = activations.sum(dim=(2, 3), keepdim=True)
        denominator = 2.0 * g2 + total * g3 + self.eps
        alpha = torch.where(denominator != 0, g2 / denominator, torch.zeros_like(g2))
        return (alpha * gradients.relu()).sum(dim=(2, 3))


class LayerCAM(BaseCAM):
    """LayerCAM (Jiang et al., 2021, IEEE TIP 30): the map is ReLU(sum_k ReLU(g^k) * A^k),
    element-wise weights that keep finer detail than Grad-CAM's one per channel."""

    def layer_map(self, activations: Tensor, gradients: Tensor) -> Tensor:
        """ReLU(sum over channels of ReLU(gradients) * activations): (B, C, h, w) -> (B, h, w)."""
        return (gradients.relu() * activations).sum(dim=1).relu_()
