"""A tiny random SAM from segment_anything's own modules, so ``SamPredictor`` runs its real code
path (8 x 8 embedding, 32 x 32 low-resolution masks), for the tests and ``benchmark_sam.py``.
"""

from __future__ import annotations

from functools import partial

import torch
from segment_anything.modeling import (
    ImageEncoderViT,
    MaskDecoder,
    PromptEncoder,
    Sam,
    TwoWayTransformer,
)

TINY_SAM_IMG_SIZE = 128
TINY_SAM_PATCH = 16
TINY_SAM_DIM = 32


def build_tiny_sam(seed: int = 0) -> Sam:
    """A randomly initialised SAM with a 2-block, 32-dim ViT on 128 x 128 inputs (eval mode)."""
    torch.manual_seed(seed)
    grid = TINY_SAM_IMG_SIZE // TINY_SAM_PATCH
    sam = Sam(
        image_encoder=ImageEncoderViT(
            img_size=TINY_SAM_IMG_SIZE,
            patch_size=TINY_SAM_PATCH,
            embed_dim=TINY_SAM_DIM,
            depth=2,
            num_heads=2,
            mlp_ratio=2.0,
            out_chans=TINY_SAM_DIM,
            qkv_bias=True,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            use_rel_pos=True,
            window_size=4,
            global_attn_indexes=(1,),
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=TINY_SAM_DIM,
            image_embedding_size=(grid, grid),
            input_image_size=(TINY_SAM_IMG_SIZE, TINY_SAM_IMG_SIZE),
            mask_in_chans=8,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=1, embedding_dim=TINY_SAM_DIM, num_heads=2, mlp_dim=64
            ),
            transformer_dim=TINY_SAM_DIM,
            iou_head_depth=2,
            iou_head_hidden_dim=32,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    return sam.eval()
