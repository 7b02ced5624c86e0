"""A cache of SAM image embeddings keyed by image content and model.

Comparing K prompt strategies on the same images should cost one image-encoder pass per
image, not K. Entries live in memory (least recently used first out, bounded by a number of
entries and by their total size: ViT-B's embedding is 256 x 64 x 64 float32 = 4 MiB, so the
default 2 GiB holds 512 images, enough for a strategy-by-strategy loop over the 500 test
images) and, optionally, in a directory as ``<key>.pt`` files that later runs reuse. Files are
written atomically; an unreadable file is reported by path, deleted and counted as a miss, so
the embedding is recomputed.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from common.atomic import atomic_write, read_or_discard


@dataclass
class CachedEmbedding:
    """What ``SamPredictor.set_image`` computes for one image.

    Attributes:
        features: the image encoder's output, float (1, C, h, w).
        input_size: (H', W') of the image after ``ResizeLongestSide``.
        original_size: (H, W) of the image.
    """

    features: torch.Tensor
    input_size: tuple[int, int]
    original_size: tuple[int, int]


def embedding_key(image: np.ndarray, model_id: str) -> str:
    """SHA-256 hex digest of ``model_id``, the image's shape and dtype, and its bytes."""
    digest = hashlib.sha256()
    digest.update(model_id.encode())
    digest.update(repr((image.shape, str(image.dtype))).encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


class EmbeddingCache:
    """LRU memory cache plus an optional on-disk cache of :class:`CachedEmbedding`.

    Args:
        max_items: memory bound in entries (None: no count bound); 0 disables the memory level.
        max_bytes: memory bound on the entries' total tensor size.
        directory: folder for ``<key>.pt`` files, or None for memory only.

    Attributes:
        hits, disk_hits, misses: lookup counters (a disk hit is also counted in ``hits``).
    """

    def __init__(
        self,
        max_items: int | None = None,
        max_bytes: int = 2 << 30,
        directory: Path | str | None = None,
    ) -> None:
        if (max_items is not None and max_items < 0) or max_bytes < 0:
            raise ValueError(f"max_items and max_bytes must be >= 0, got {max_items}, {max_bytes}")
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.nbytes = 0
        self.directory = Path(directory) if directory is not None else None
        self._memory: OrderedDict[str, CachedEmbedding] = OrderedDict()
        self.hits = 0
        self.disk_hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._memory)

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{key}.pt"

    def get(self, key: str, device: torch.device | str | None = None) -> CachedEmbedding | None:
        """The entry for ``key`` (memory first, then disk, moved to ``device``), or None."""
        entry = self._memory.get(key)
        if entry is not None:
            self._memory.move_to_end(key)
            self.hits += 1
            return entry
        if self.directory is not None:

            def read(path: Path) -> CachedEmbedding:
                data = torch.load(path, map_location=device or "cpu", weights_only=True)
                return CachedEmbedding(
                    data["features"], tuple(data["input_size"]), tuple(data["original_size"])
                )

            entry = read_or_discard(self._path(key), read, "embedding cache entry")
        if entry is not None:
            self._remember(key, entry)
            self.hits += 1
            self.disk_hits += 1
            return entry
        self.misses += 1
        return None

    def put(self, key: str, entry: CachedEmbedding) -> None:
        """Store ``entry`` in memory and, when a directory is set, on disk (written atomically)."""
        self._remember(key, entry)
        if self.directory is not None:
            payload = {
                "features": entry.features.detach().cpu(),
                "input_size": list(entry.input_size),
                "original_size": list(entry.original_size),
            }
            atomic_write(self._path(key), lambda tmp: torch.save(payload, tmp))

    def _remember(self, key: str, entry: CachedEmbedding) -> None:
        size = _nbytes(entry)
        if self.max_items == 0 or size > self.max_bytes:
            return
        old = self._memory.pop(key, None)
        if old is not None:
            self.nbytes -= _nbytes(old)
        self._memory[key] = entry
        self.nbytes += size
        while (self.max_items is not None and len(self._memory) > self.max_items) or (
            self.nbytes > self.max_bytes
        ):
            _, dropped = self._memory.popitem(last=False)
            self.nbytes -= _nbytes(dropped)


def _nbytes(entry: CachedEmbedding) -> int:
    return entry.features.numel() * entry.features.element_size()
