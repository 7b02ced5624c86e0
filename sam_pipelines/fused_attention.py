"""SAM's image-encoder attention through one fused kernel (``scaled_dot_product_attention``).

``segment_anything``'s ``Attention.forward`` builds the whole (B * heads, N, N) attention map,
adds the decomposed relative positions to it, applies softmax and multiplies by V: at ViT-B's
global-attention blocks (N = 64 x 64 = 4096 tokens) that is 16 M numbers per head and image,
which bounds the batch size and the speed on a GPU. The bias it adds is

    bias[q, k] = rel_h[q, row(k)] + rel_w[q, col(k)]

(``rel_h`` = q . R_h, ``rel_w`` = q . R_w, from ``add_decomposed_rel_pos``), which is itself a
dot product: append ``rel_h[q]`` and ``rel_w[q]`` to each query, the one-hot vectors of its row
and column to each key, and ``q' . k' = scale * q . k + bias[q, k]``. So attention with the
relative positions is plain attention on these longer vectors (head dim C + H + W, padded to a
multiple of 8; 64 + 64 + 64 = 192 for ViT-B's global blocks), which
``torch.nn.functional.scaled_dot_product_attention`` computes without materialising the map
(flash / memory-efficient kernels on CUDA). The values are padded with zeros to the same width
and the padding is cut from the output. The result equals the original forward up to floating
point rounding (``tests/test_sam_batching.py`` compares them in float32).

:func:`fused_attention` switches every ``Attention`` of an image encoder to this forward for
the duration of a ``with`` block.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _rel_pos(size: int, rel_pos: Tensor) -> Tensor:
    """``segment_anything``'s ``get_rel_pos(size, size, rel_pos)``: (size, size, C)."""
    from segment_anything.modeling.image_encoder import get_rel_pos

    return get_rel_pos(size, size, rel_pos)


def fused_forward(self: nn.Module, x: Tensor) -> Tensor:
    """``Attention.forward`` of ``segment_anything`` via ``scaled_dot_product_attention``.

    Args:
        self: a ``segment_anything.modeling.image_encoder.Attention``.
        x: (B, H, W, dim) tokens (a window or the whole grid).

    Returns:
        (B, H, W, dim), as the original forward.
    """
    b, h, w, _ = x.shape
    n, heads = h * w, self.num_heads
    qkv = self.qkv(x).reshape(b, n, 3, heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.reshape(3, b * heads, n, -1).unbind(0)  # (B * heads, N, C)
    c = q.shape[-1]
    if self.use_rel_pos:
        r_q = q.reshape(b * heads, h, w, c)
        rel_h = torch.einsum("bhwc,hkc->bhwk", r_q, _rel_pos(h, self.rel_pos_h)).reshape(-1, n, h)
        rel_w = torch.einsum("bhwc,wkc->bhwk", r_q, _rel_pos(w, self.rel_pos_w)).reshape(-1, n, w)
        index = torch.arange(n, device=x.device)
        rows = F.one_hot(index // w, h).to(k.dtype).expand(b * heads, n, h)
        cols = F.one_hot(index % w, w).to(k.dtype).expand(b * heads, n, w)
        q = torch.cat([q * self.scale, rel_h.to(q.dtype), rel_w.to(q.dtype)], dim=-1)
        k = torch.cat([k, rows, cols], dim=-1)
        scale = 1.0
    else:
        scale = self.scale
    width = -(-q.shape[-1] // 8) * 8  # kernels want a multiple of 8
    q = F.pad(q, (0, width - q.shape[-1]))
    k = F.pad(k, (0, width - k.shape[-1]))
    v = F.pad(v, (0, width - c))
    out = F.scaled_dot_product_attention(q, k, v, scale=scale)[..., :c]
    out = out.reshape(b, heads, h, w, c).permute(0, 2, 3, 1, 4).reshape(b, h, w, -1)
    return self.proj(out)


@contextmanager
def fused_attention(encoder: nn.Module) -> Iterator[int]:
    """Within the block, every ``Attention`` module of ``encoder`` (a SAM ``ImageEncoderViT``)
    runs :func:`fused_forward`; afterwards their own forward again. Yields how many were
    switched."""
    from segment_anything.modeling.image_encoder import Attention

    switched = [m for m in encoder.modules() if isinstance(m, Attention)]
    for module in switched:
        module.forward = types.MethodType(fused_forward, module)  # type: ignore[method-assign]
    try:
        yield len(switched)
    finally:
        for module in switched:
            del module.forward
