"""``sam``: segment_anything's ``SamPredictor`` behind the embedding cache.

``set_image`` runs the image encoder only for an image (by content) that this back end has not
embedded yet; otherwise it restores the cached embedding into the predictor, so the prompt
encoder and mask decoder run exactly as after a fresh ``set_image``. ``predict`` is
``SamPredictor.predict`` unchanged (points (X, Y) in pixels of the original image, resized
to the model's input by ``ResizeLongestSide``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from sam_pipelines.checkpoint import (
    DEFAULT_CHECKPOINT_DIR,
    SamCheckpointError,
    checkpoint_info,
    resolve_sam_checkpoint,
)
from sam_pipelines.checks import SegmenterError, check_image, check_point_prompts
from sam_pipelines.embedding_cache import CachedEmbedding, EmbeddingCache, embedding_key

if TYPE_CHECKING:
    from segment_anything.modeling import Sam


def import_segment_anything():
    """The ``segment_anything`` package, imported on first use so that the rest of
    ``sam_pipelines`` works without it; a missing install raises with the command to run."""
    try:
        import segment_anything
    except ImportError as err:
        raise SegmenterError(
            "the sam back end needs the segment-anything package: pip install segment-anything"
        ) from err
    return segment_anything


def load_sam(model_type: str, checkpoint: Path | str, device: torch.device | str = "cpu") -> Sam:
    """Build ``sam_model_registry[model_type]``, load ``checkpoint`` (weights only), eval mode.

    Raises:
        SamCheckpointError: the file is not a loadable checkpoint for ``model_type``.
    """
    checkpoint_info(model_type)  # an unknown model type raises
    registry = import_segment_anything().sam_model_registry
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        model = registry[model_type](checkpoint=None)
        model.load_state_dict(state)
    except Exception as err:  # any failure here means "not this model's checkpoint"
        raise SamCheckpointError(
            f"{checkpoint} could not be loaded as a SAM {model_type} checkpoint: {err}"
        ) from err
    return model.to(device).eval()


class SamSegmenter:
    """SAM as a back end.

    Args:
        model_type: ``vit_b`` (default), ``vit_l`` or ``vit_h``.
        checkpoint: explicit checkpoint path; otherwise resolved by
            :func:`sam_pipelines.checkpoint.resolve_sam_checkpoint` (``SAM_CHECKPOINT``, then
            ``checkpoints/<official name>``, then a download).
        device: torch device (default: CUDA when available, else CPU).
        cache_size: most embeddings kept in memory (LRU; None: bounded by ``cache_mib`` only).
        cache_mib: memory bound of the embedding cache in MiB (2048 = 512 ViT-B embeddings).
        cache_dir: optional folder for an on-disk embedding cache.
        download: allow downloading the official checkpoint.
        checkpoint_dir: folder of step 3 of the resolution and of the download.
        environ: environment for ``SAM_CHECKPOINT`` (default ``os.environ``).
        model: an already built ``Sam`` (tests use a tiny random one); then ``model_id`` is
            required and no checkpoint is read.
        model_id: identifies the weights in cache keys (default: model type, checkpoint file
            name and size).

    Attributes:
        encoder_calls: image-encoder passes so far (cache misses).
        predictor: the wrapped ``SamPredictor``.
    """

    name = "sam"
    kind = "sam"

    def __init__(
        self,
        model_type: str = "vit_b",
        checkpoint: Path | str | None = None,
        device: torch.device | str | None = None,
        cache_size: int | None = None,
        cache_mib: float = 2048.0,
        cache_dir: Path | str | None = None,
        download: bool = True,
        checkpoint_dir: Path | str = DEFAULT_CHECKPOINT_DIR,
        environ: Mapping[str, str] | None = None,
        model: Sam | None = None,
        model_id: str | None = None,
    ) -> None:
        segment_anything = import_segment_anything()  # before any checkpoint download
        self.model_type = model_type
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if model is None:
            path = resolve_sam_checkpoint(model_type, checkpoint, checkpoint_dir, environ, download)
            self.checkpoint: Path | None = path
            model = load_sam(model_type, path, self.device)
            model_id = model_id or f"{model_type}:{path.name}:{path.stat().st_size}"
        else:
            if not model_id:
                raise SegmenterError("sam: a model passed in needs a model_id for the cache keys")
            self.checkpoint = None
            model = model.to(self.device).eval()
        self.model_id = model_id
        self.predictor = segment_anything.SamPredictor(model)
        self.cache = EmbeddingCache(cache_size, int(cache_mib * 2**20), cache_dir)
        self.encoder_calls = 0
        self._current_key: str | None = None

    def describe(self) -> str:
        """e.g. ``sam (vit_b, checkpoints/sam_vit_b_01ec64.pth, cuda)``."""
        weights = str(self.checkpoint) if self.checkpoint is not None else f"model {self.model_id}"
        return f"sam ({self.model_type}, {weights}, {self.device.type})"

    def set_image(self, image: np.ndarray, image_format: str = "RGB") -> None:
        """``SamPredictor.set_image`` with the embedding cache (image uint8 (H, W, 3))."""
        image = check_image(image, image_format, where="sam.set_image")
        key = embedding_key(image, self.model_id)
        if key == self._current_key:
            return
        entry = self.cache.get(key, self.device)
        if entry is None:
            self.predictor.set_image(image, "RGB")
            self.encoder_calls += 1
            assert self.predictor.features is not None
            entry = CachedEmbedding(
                self.predictor.features,
                tuple(self.predictor.input_size),
                tuple(self.predictor.original_size),
            )
            self.cache.put(key, entry)
        else:
            self.predictor.reset_image()
            self.predictor.features = entry.features.to(self.device)
            self.predictor.input_size = entry.input_size
            self.predictor.original_size = entry.original_size
            self.predictor.is_image_set = True
        self._current_key = key

    def predict(
        self,
        point_coords: np.ndarray | None = None,
        point_labels: np.ndarray | None = None,
        **options: Any,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``SamPredictor.predict`` with checked points: the contract of
        :meth:`sam_pipelines.classical_base.ClassicalSegmenter.predict`; ``options`` are
        ``SamPredictor.predict``'s keywords (``box``, ``mask_input``, ``multimask_output``,
        ``return_logits``). The scores are the predicted IoUs, float32 (C,), and the
        low-resolution logits are float32 (C, 256, 256).
        """
        if not self.predictor.is_image_set:
            raise RuntimeError("sam: call set_image(...) before predict(...)")
        if point_coords is not None or point_labels is not None:
            h, w = self.predictor.original_size
            point_coords, point_labels = check_point_prompts(
                point_coords, point_labels, (h, w), "sam.predict"
            )
        masks, scores, low_res = self.predictor.predict(point_coords, point_labels, **options)
        return masks, scores.astype(np.float32), low_res.astype(np.float32)
