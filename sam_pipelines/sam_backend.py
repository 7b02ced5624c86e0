"""``sam``: segment_anything's ``SamPredictor`` behind the embedding cache: ``set_image`` runs
the image encoder only for an image (by content) not embedded yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tqdm import tqdm

from common.device import native_bf16, resolve_device
from sam_pipelines.batched_encoder import encode_images
from sam_pipelines.checkpoint import (
    DEFAULT_CHECKPOINT_DIR,
    SamCheckpointError,
    resolve_sam_checkpoint,
)
from sam_pipelines.checks import SegmenterError, check_image, check_point_prompts
from sam_pipelines.embedding_cache import (
    DEFAULT_DISK_CAP_BYTES,
    CachedEmbedding,
    EmbeddingCache,
    checkpoint_identity,
    embedding_key,
    model_identity,
)

if TYPE_CHECKING:
    from segment_anything.modeling import Sam


#: Encoder precisions: ``float32`` (``SamPredictor``'s), ``bfloat16`` (autocast; CUDA only) and
#: ``auto`` (bfloat16 on a GPU that computes it natively, compute capability 8.0 or newer;
#: float32 elsewhere, e.g. on a T4, which only emulates bfloat16).
PRECISIONS = ("auto", "float32", "bfloat16")


def resolve_precision(precision: str, device: torch.device) -> str:
    """``float32`` or ``bfloat16`` for ``precision`` on ``device`` (see :data:`PRECISIONS`)."""
    if precision not in PRECISIONS:
        raise SegmenterError(
            f"sam precision must be one of {', '.join(PRECISIONS)}, got {precision!r}"
        )
    if precision == "auto":
        return "bfloat16" if device.type == "cuda" and native_bf16(device) else "float32"
    if precision == "bfloat16" and device.type != "cuda":
        raise SegmenterError("sam precision bfloat16 is for CUDA only; the CPU keeps float32")
    return precision


def _wait_and_count(bar: tqdm, images: int, done: torch.cuda.Event | None) -> None:
    """Wait for a batch's encoder work (``done``; None: it ran synchronously), then count it."""
    if done is not None:
        done.synchronize()
    bar.update(images)


class SamSegmenter:
    """SAM as a back end.

    Args:
        model_type: ``vit_b`` (default), ``vit_l`` or ``vit_h``.
        checkpoint: explicit checkpoint path; otherwise resolved by
            :func:`sam_pipelines.checkpoint.resolve_sam_checkpoint` (with ``download``,
            ``checkpoint_dir`` and ``environ``).
        device: torch device or ``--device`` spec (default ``auto``, see
            :func:`common.device.resolve_device`).
        cache_mib: memory bound of the embedding cache in MiB (2048 = 512 ViT-B embeddings).
        cache_dir: optional folder for an on-disk embedding cache.
        disk_cache_bytes: size cap of ``cache_dir`` (least recently used files go first).
        precision: the image encoder's precision (:data:`PRECISIONS`; default float32).
        model: an already built ``Sam`` (tests use a tiny random one); then ``model_id`` is
            required and no checkpoint is read.
        model_id: identifies the weights in cache keys (default: the checkpoint's
            :func:`~sam_pipelines.embedding_cache.checkpoint_identity`).
        max_sets: most prompt sets per mask-decoder call in :meth:`predict_sets` (default: 64
            on CUDA; 4 on the CPU, where ViT-B's decoder needs about 33 MB a set and larger
            calls ran slower: 64 sets in 5.1 s in calls of 4, 7.9 s in one call of 64).

    Attributes:
        encoder_calls: images embedded by the image encoder so far (cache misses).
        decoder_calls: mask-decoder calls so far (``predict`` and ``predict_sets``).
        cache_id: the model id of the cache keys: model type, weights, precision and, with
            bfloat16, ``+sdpa`` (the encoder's attention runs through
            :mod:`sam_pipelines.sdpa_attention`).
        predictor: the wrapped ``SamPredictor``.
    """

    name = "sam"
    kind = "sam"

    def __init__(
        self,
        model_type: str = "vit_b",
        checkpoint: Path | str | None = None,
        device: torch.device | str | None = None,
        cache_mib: float = 2048.0,
        cache_dir: Path | str | None = None,
        disk_cache_bytes: int = DEFAULT_DISK_CAP_BYTES,
        precision: str = "float32",
        download: bool = True,
        checkpoint_dir: Path | str = DEFAULT_CHECKPOINT_DIR,
        environ: Mapping[str, str] | None = None,
        model: Sam | None = None,
        model_id: str | None = None,
        max_sets: int | None = None,
    ) -> None:
        try:  # imported on first use, before any checkpoint download
            import segment_anything
        except ImportError as err:
            raise SegmenterError(
                "the sam back end needs the segment-anything package: pip install segment-anything"
            ) from err
        self.model_type = model_type
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.checkpoint: Path | None = None
        if model is None:
            path = resolve_sam_checkpoint(model_type, checkpoint, checkpoint_dir, environ, download)
            self.checkpoint = path
            try:  # any failure here means "not this model's checkpoint"
                model = segment_anything.sam_model_registry[model_type](checkpoint=None)
                model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            except Exception as err:
                raise SamCheckpointError(
                    f"{path} could not be loaded as a SAM {model_type} checkpoint: {err}"
                ) from err
            model_id = model_id or checkpoint_identity(path)
        elif not model_id:
            raise SegmenterError("sam: a model passed in needs a model_id for the cache keys")
        model = model.to(self.device).eval()
        self.model_id = model_id
        # bfloat16 (CUDA) runs the attention through scaled_dot_product_attention
        self.sdpa = self.precision == "bfloat16"
        encoder = f"{self.precision}+sdpa" if self.sdpa else self.precision
        self.cache_id = model_identity(model_type, model_id, encoder)
        self.predictor = segment_anything.SamPredictor(model)
        self.cache = EmbeddingCache(
            int(cache_mib * 2**20), cache_dir, disk_cache_bytes, background_writes=True
        )
        if max_sets is None:
            max_sets = 64 if self.device.type == "cuda" else 4
        if max_sets < 1:
            raise SegmenterError(f"sam: max_sets must be >= 1, got {max_sets}")
        self.max_sets = max_sets
        self.encoder_calls = 0
        self.decoder_calls = 0
        self._current_key: str | None = None

    def describe(self) -> str:
        """e.g. ``sam (vit_b, checkpoints/sam_vit_b_01ec64.pth, cuda, bfloat16, SDPA attention)``
        (the attention part only where the encoder uses it)."""
        weights = str(self.checkpoint) if self.checkpoint is not None else f"model {self.model_id}"
        attention = ", SDPA attention" if self.sdpa else ""
        return (
            f"sam ({self.model_type}, {weights}, {self.device.type}, {self.precision}{attention})"
        )

    def encode(
        self, images: np.ndarray, batch_size: int = 16, progress: bool = True, flush: bool = True
    ) -> int:
        """Put the embedding of every image (uint8 RGB (N, H, W, 3), all of one size) into the
        cache, running the encoder on the ones it does not hold yet, ``batch_size`` images per
        call, with a tqdm bar when ``progress``. Returns how many it ran on (the misses).

        On CUDA the next batch is prepared while the GPU works on this one (the bar counts a
        batch when it has finished). The cache's files are written in the background; with
        ``flush`` (default) they all exist on return, else :meth:`flush` waits for them.
        """
        images = np.asarray(images)
        keys = [embedding_key(image, self.cache_id) for image in images]
        missing = [i for i, key in enumerate(keys) if self.cache.get(key, self.device) is None]
        cuda = self.device.type == "cuda"
        with tqdm(
            total=len(missing), desc="SAM image encoder", unit="img", disable=not progress
        ) as bar:
            running: tuple[int, torch.cuda.Event | None] | None = None  # the batch before
            for start in range(0, len(missing), batch_size):
                chunk = missing[start : start + batch_size]
                for i, entry in zip(chunk, self._embed(images[chunk]), strict=True):
                    self.cache.put(keys[i], entry)
                done = torch.cuda.Event() if cuda else None
                if done is not None:
                    done.record()
                if running is not None:
                    _wait_and_count(bar, *running)
                running = (len(chunk), done)
            if running is not None:
                _wait_and_count(bar, *running)
        if flush:
            self.flush()
        return len(missing)

    def _embed(self, images: np.ndarray) -> list[CachedEmbedding]:
        """One image-encoder call on uint8 RGB images (N, H, W, 3) of one size at the set
        precision; in float32 bit for bit what ``SamPredictor.set_image`` computes."""
        autocast = torch.bfloat16 if self.precision == "bfloat16" else None
        features, input_size = encode_images(
            self.predictor.model, images, len(images), autocast, sdpa=self.sdpa
        )
        self.encoder_calls += len(images)
        original_size = (int(images.shape[1]), int(images.shape[2]))
        return [CachedEmbedding(f[None], input_size, original_size) for f in features]

    def set_image(self, image: np.ndarray, image_format: str = "RGB") -> None:
        """``SamPredictor.set_image`` with the embedding cache (image uint8 (H, W, 3))."""
        image = check_image(image, image_format, where="sam.set_image")
        key = embedding_key(image, self.cache_id)
        if key == self._current_key:
            return
        entry = self.cache.get(key, self.device)
        if entry is None:
            entry = self._embed(image[None])[0]
            self.cache.put(key, entry)
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
            point_coords, point_labels = check_point_prompts(
                point_coords, point_labels, self.predictor.original_size, "sam.predict"
            )
        masks, scores, low_res = self.predictor.predict(point_coords, point_labels, **options)
        self.decoder_calls += 1
        return masks, scores.astype(np.float32), low_res.astype(np.float32)

    def flush(self) -> None:
        """Wait for the embedding cache's queued disk writes (see ``EmbeddingCache.flush``)."""
        self.cache.flush()

    def _features(self, images: np.ndarray) -> tuple[torch.Tensor, tuple[int, int]]:
        """The embeddings of uint8 RGB ``images`` (N, H, W, 3), one size, from the cache,
        encoding the missing ones in one call: float32 (N, C, h, w) and the input size."""
        keys = [embedding_key(image, self.cache_id) for image in images]
        entries = [self.cache.get(key, self.device) for key in keys]
        missing = [i for i, entry in enumerate(entries) if entry is None]
        if missing:
            for i, entry in zip(missing, self._embed(images[missing]), strict=True):
                self.cache.put(keys[i], entry)
                entries[i] = entry
        sizes = {entry.input_size for entry in entries}  # type: ignore[union-attr]
        if len(sizes) != 1:
            raise SegmenterError(f"sam.predict_sets: images of several input sizes {sizes}")
        features = torch.cat([entry.features.to(self.device) for entry in entries])  # type: ignore[union-attr]
        return features, sizes.pop()

    @torch.no_grad()
    def predict_sets(
        self,
        images: np.ndarray,
        image_index: list[int],
        point_coords: list[np.ndarray],
        point_labels: list[np.ndarray],
        mask_inputs: list[torch.Tensor] | None = None,
        multimask_output: bool = True,
    ) -> list[tuple[np.ndarray, np.ndarray, torch.Tensor]]:
        """:meth:`predict` for many prompt sets on many images, in few mask-decoder calls.

        The sets are grouped by point count (SAM's prompt tokens attend to each other, so
        padding would change the masks) and decoded ``max_sets`` per call, each set with its
        own image's embedding: SAM's ``MaskDecoder`` gets a zero image embedding and the
        embedding added to the set's dense prompt embedding, the sum it forms itself, so each
        set's outputs are what ``SamPredictor.predict_torch`` gives it alone (up to the
        rounding of a different batch).

        Args:
            images: uint8 RGB (N, H, W, 3), all of one size; embedded if not cached yet.
            image_index: per set, the index of its image in ``images``.
            point_coords: per set, float (K_i, 2) points (X, Y) in pixels, as for
                :meth:`predict`.
            point_labels: per set, int (K_i,), 1 = foreground, 0 = background.
            mask_inputs: None, or per set float32 (1, 256, 256) logits on this back end's
                device (a third output of an earlier call).
            multimask_output: three candidates per set (True) or one.

        Returns:
            Per set, in order: bool masks (C, H, W) and float32 scores (C,) as numpy arrays,
            and the float32 low-resolution logits (C, 256, 256) as a tensor on the device
            (kept there to be fed back as ``mask_input``).
        """
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
            raise SegmenterError(
                f"sam.predict_sets: images must be uint8 (N, H, W, 3), got "
                f"{images.dtype} {images.shape}"
            )
        hw = (int(images.shape[1]), int(images.shape[2]))
        sets = [
            check_point_prompts(c, lab, hw, "sam.predict_sets")
            for c, lab in zip(point_coords, point_labels, strict=True)
        ]
        if len(image_index) != len(sets):
            raise SegmenterError(
                f"sam.predict_sets: {len(image_index)} image indices for {len(sets)} prompt sets"
            )
        used = sorted(set(image_index))
        features, input_size = self._features(images[used])
        row = {image: i for i, image in enumerate(used)}
        groups: dict[int, list[int]] = {}
        for i, (coords, _) in enumerate(sets):
            groups.setdefault(len(coords), []).append(i)
        model = self.predictor.model
        image_pe = model.prompt_encoder.get_dense_pe()
        no_embedding = torch.zeros_like(features[:1])  # each set's own goes in with its prompt
        out: list[Any] = [None] * len(sets)
        for group in groups.values():
            for start in range(0, len(group), self.max_sets):
                members = group[start : start + self.max_sets]
                coords = np.stack(
                    [self.predictor.transform.apply_coords(sets[i][0], hw) for i in members]
                )
                labels = np.stack([sets[i][1] for i in members])
                masks_in = None
                if mask_inputs is not None:
                    masks_in = torch.stack([torch.as_tensor(mask_inputs[i]) for i in members])
                    masks_in = masks_in.to(self.device, torch.float)
                points = (
                    torch.as_tensor(coords, dtype=torch.float, device=self.device),
                    torch.as_tensor(labels, dtype=torch.int, device=self.device),
                )
                sparse, dense = model.prompt_encoder(points=points, boxes=None, masks=masks_in)
                index = torch.as_tensor([row[image_index[i]] for i in members], device=self.device)
                dense = features[index] + dense  # what the decoder adds to its image embedding
                low_res, scores = model.mask_decoder(
                    image_embeddings=no_embedding,
                    image_pe=image_pe,
                    sparse_prompt_embeddings=sparse,
                    dense_prompt_embeddings=dense,
                    multimask_output=multimask_output,
                )
                masks = model.postprocess_masks(low_res, input_size, hw) > model.mask_threshold
                self.decoder_calls += 1
                masks_np, scores_np = masks.cpu().numpy(), scores.float().cpu().numpy()
                for j, i in enumerate(members):
                    out[i] = (masks_np[j], scores_np[j], low_res[j])
        return out
