"""SAM's image-encoder attention through ``scaled_dot_product_attention`` (flash attention on a
GPU), the relative positions included, without the (heads, N, N) attention map.

``segment_anything``'s ``Attention.forward`` builds the whole attention map, adds the
decomposed relative positions ``rel_h[q, row(k)] + rel_w[q, col(k)]`` (``rel_h = q . R_h``,
``rel_w = q . R_w``) and applies softmax: at ViT-B's global blocks (N = 4096 tokens) that map
is 16 M numbers per head and image. The bias is itself a dot product: append ``rel_h[q]`` and
``rel_w[q]`` to each (scaled) query and the one-hot row and column of each key to the key, and
``q' . k' = scale * q . k + bias[q, k]``. So the attention is plain attention on longer vectors
(64 + 64 + 64 = 192 wide at ViT-B's global blocks, 64 + 14 + 14 = 92, padded to 96, in its
windows); the values are padded with zeros to that width and the padding is cut off after.

The tensors go to ``scaled_dot_product_attention`` as (B, heads, N, width): its fused CUDA
kernels take only 4-D inputs (a 3-D call falls back to the plain math path, which builds the
map; that is why an earlier 3-D version of this module was slower than SAM's own forward).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def rel_pos_table(size: int, rel_pos: Tensor) -> Tensor:
    """``segment_anything``'s ``get_rel_pos(size, size, rel_pos)``, (size, size, C): entry
    (i, j) is ``rel_pos[i - j + size - 1]``. The index is built on ``rel_pos``'s device, so no
    host-to-device copy stalls the queue of GPU work (``get_rel_pos`` indexes with a CPU tensor,
    which waits for every kernel queued before it)."""
    if rel_pos.shape[0] != 2 * size - 1:  # SAM interpolates the table first: its own code
        from segment_anything.modeling.image_encoder import get_rel_pos

        return get_rel_pos(size, size, rel_pos)
    steps = torch.arange(size, device=rel_pos.device)
    return rel_pos[steps[:, None] - steps[None, :] + size - 1]


def sdpa_forward(self: nn.Module, x: Tensor) -> Tensor:
    """``segment_anything``'s ``Attention.forward`` through ``scaled_dot_product_attention``.

    Args:
        self: a ``segment_anything.modeling.image_encoder.Attention``.
        x: (B, H, W, dim) tokens of a window or of the whole grid.

    Returns:
        (B, H, W, dim), what the original forward returns up to floating-point rounding.
    """
    b, h, w, dim = x.shape
    n, heads = h * w, self.num_heads
    qkv = self.qkv(x).reshape(b, n, 3, heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)  # each (B, heads, N, C)
    c = q.shape[-1]
    scale: float | None = None  # SDPA's default, 1 / sqrt(C): SAM's self.scale
    if self.use_rel_pos:
        grid_q = q.reshape(b, heads, h, w, c)
        rel_h = torch.einsum("bnhwc,hkc->bnhwk", grid_q, rel_pos_table(h, self.rel_pos_h))
        rel_w = torch.einsum("bnhwc,wkc->bnhwk", grid_q, rel_pos_table(w, self.rel_pos_w))
        index = torch.arange(n, device=x.device)
        rows = F.one_hot(index // w, h).to(k.dtype).expand(b, heads, n, h)
        cols = F.one_hot(index % w, w).to(k.dtype).expand(b, heads, n, w)
        parts = [q * self.scale, rel_h.reshape(b, heads, n, h), rel_w.reshape(b, heads, n, w)]
        q = torch.cat([p.to(k.dtype) for p in parts], dim=-1)
        k = torch.cat([k, rows, cols], dim=-1)
        scale = 1.0
    width = -(-q.shape[-1] // 8) * 8  # the fused kernels want a multiple of 8
    q = F.pad(q, (0, width - q.shape[-1]))
    k = F.pad(k, (0, width - k.shape[-1]))
    v = F.pad(v, (0, width - c))
    out = F.scaled_dot_product_attention(q, k, v, scale=scale)[..., :c]
    return self.proj(out.permute(0, 2, 1, 3).reshape(b, h, w, dim))


@contextmanager
def sdpa_attention(encoder: nn.Module) -> Iterator[int]:
    """Within the block, every ``Attention`` of ``encoder`` (a SAM ``ImageEncoderViT``) runs
    :func:`sdpa_forward`; afterwards its own forward again. Yields how many were switched."""
    from segment_anything.modeling.image_encoder import Attention

    switched = [m for m in encoder.modules() if isinstance(m, Attention)]
    for module in switched:
        module.forward = types.MethodType(sdpa_forward, module)  # type: ignore[method-assign]
    try:
        yield len(switched)
    finally:
        for module in switched:
            del module.forward
