"""A cache of SAM image embeddings keyed by image content and model (:func:`embedding_key`),
so that K prompt strategies on the same images cost one image-encoder pass per image, not K.

Entries live in memory (LRU, bounded by total size; a ViT-B embedding is 4 MiB) and optionally
as ``<key>.pt`` files in a folder that later runs reuse (written atomically; an unreadable one
is deleted and counted as a miss; past ``max_disk_bytes`` the least recently used go first).
With ``background_writes`` the files are written by one worker thread, so the encoder does not
wait for the disk (nor, on CUDA, for the copy of each embedding to the host).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from common.atomic import atomic_write, read_or_discard

log = logging.getLogger(__name__)

#: Default size cap of an on-disk cache folder: 4 GiB, about 1000 ViT-B embeddings.
DEFAULT_DISK_CAP_BYTES = 4 << 30


@dataclass
class CachedEmbedding:
    """What ``SamPredictor.set_image`` computes for one image: the encoder's ``features``
    float (1, C, h, w), the ``input_size`` (H', W') after ``ResizeLongestSide`` and the
    ``original_size`` (H, W)."""

    features: torch.Tensor
    input_size: tuple[int, int]
    original_size: tuple[int, int]


def checkpoint_identity(path: Path | str) -> str:
    """``<file name>:<size in bytes>:<mtime in ns>`` of a checkpoint file (one ``stat``)."""
    path = Path(path)
    info = path.stat()
    return f"{path.name}:{info.st_size}:{info.st_mtime_ns}"


def model_identity(model_type: str, weights: str, precision: str = "float32") -> str:
    """The model id of the cache keys: ``<model type>|<weights>|<precision>``, e.g.
    ``vit_b|sam_vit_b_01ec64.pth:375042383:1700000000000000000|float32``."""
    return f"{model_type}|{weights}|{precision}"


def embedding_key(image: np.ndarray, model_id: str) -> str:
    """SHA-256 hex digest of ``model_id``, the image's shape and dtype, and its bytes."""
    digest = hashlib.sha256()
    digest.update(model_id.encode())
    digest.update(repr((image.shape, str(image.dtype))).encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


class EmbeddingCache:
    """LRU memory cache plus an optional on-disk cache of :class:`CachedEmbedding`.

    ``max_bytes`` bounds the entries' total tensor size in memory (0: none kept), ``directory``
    holds ``<key>.pt`` files (None: memory only), ``max_disk_bytes`` caps them. Counters:
    ``hits`` (disk hits included), ``disk_hits``, ``misses``, ``evicted`` (files deleted by the
    cap); ``disk_bytes`` is the folder's ``.pt`` bytes as last counted.

    ``background_writes``: :meth:`put` hands the file to a worker thread (at most
    ``max_pending`` queued, each holding a host copy of its tensor) and returns; :meth:`flush`
    waits for them and raises the first failed write's error. A :meth:`get` that goes to disk
    flushes first.
    """

    def __init__(
        self,
        max_bytes: int = 2 << 30,
        directory: Path | str | None = None,
        max_disk_bytes: int = DEFAULT_DISK_CAP_BYTES,
        background_writes: bool = False,
        max_pending: int = 32,
    ) -> None:
        if max_bytes < 0 or max_disk_bytes < 0:
            raise ValueError(
                f"max_bytes and max_disk_bytes must be >= 0, got {max_bytes}, {max_disk_bytes}"
            )
        self.max_bytes = max_bytes
        self.nbytes = 0
        self.directory = Path(directory) if directory is not None else None
        self.max_disk_bytes = max_disk_bytes
        self.disk_bytes = sum(info.st_size for _, info in _entries(self.directory))
        self._memory: OrderedDict[str, CachedEmbedding] = OrderedDict()
        self.hits = self.disk_hits = self.misses = self.evicted = 0
        self.max_pending = max(1, max_pending)
        self._writer = ThreadPoolExecutor(1, "embedding-cache") if background_writes else None
        self._pending: deque[Future[None]] = deque()

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
            self.flush()

            def read(path: Path) -> CachedEmbedding:
                data = torch.load(path, map_location=device or "cpu", weights_only=True)
                features = data["features"]
                if not isinstance(features, torch.Tensor) or features.ndim != 4:
                    raise ValueError(f"holds no (1, C, h, w) features: {type(features)}")
                entry = CachedEmbedding(
                    features, tuple(data["input_size"]), tuple(data["original_size"])
                )
                os.utime(path)  # recently used: the cap evicts it last
                return entry

            entry = read_or_discard(self._path(key), read, "embedding cache entry")
        if entry is not None:
            self._remember(key, entry)
            self.hits += 1
            self.disk_hits += 1
            return entry
        self.misses += 1
        return None

    def put(self, key: str, entry: CachedEmbedding) -> None:
        """Store ``entry`` in memory and, when a directory is set, on disk (written atomically;
        past ``max_disk_bytes`` the least recently used files are deleted); with background
        writes the file is written later (see :meth:`flush`)."""
        self._remember(key, entry)
        if self.directory is None:
            return
        features = entry.features.detach()
        done = None
        if self._writer is not None and features.is_cuda:  # copy to pinned memory, no wait
            features = features.to("cpu", non_blocking=True)
            done = torch.cuda.Event()
            done.record()
        else:
            features = features.cpu()
        payload = {
            "features": features,
            "input_size": list(entry.input_size),
            "original_size": list(entry.original_size),
        }
        if self._writer is None:
            self._write(key, payload, None)
            return
        while self._pending and (self._pending[0].done() or len(self._pending) >= self.max_pending):
            self._pending.popleft().result()  # a failed write raises here, at the latest
        self._pending.append(self._writer.submit(self._write, key, payload, done))

    def flush(self) -> None:
        """Wait for the queued background writes; raises the first failed write's error."""
        while self._pending:
            self._pending.popleft().result()

    def _write(self, key: str, payload: dict, done: torch.cuda.Event | None) -> None:
        """Write one entry's file, then apply the size cap (in the writer thread, if any)."""
        if done is not None:
            done.synchronize()  # the tensor's copy to the host has finished
        path = atomic_write(self._path(key), lambda tmp: torch.save(payload, tmp))
        self.disk_bytes += path.stat().st_size
        if self.disk_bytes <= self.max_disk_bytes:
            return
        files = sorted(_entries(self.directory), key=lambda item: item[1].st_mtime_ns)
        total = sum(info.st_size for _, info in files)
        deleted = 0
        for path, info in files:
            if total <= self.max_disk_bytes:
                break
            path.unlink(missing_ok=True)
            total -= info.st_size
            deleted += 1
        if deleted:
            log.info("embedding cache %s: evicted %d file(s) over the cap", self.directory, deleted)
        self.disk_bytes = total
        self.evicted += deleted

    def _remember(self, key: str, entry: CachedEmbedding) -> None:
        size = _nbytes(entry)
        if size > self.max_bytes:
            return
        old = self._memory.pop(key, None)
        if old is not None:
            self.nbytes -= _nbytes(old)
        self._memory[key] = entry
        self.nbytes += size
        while self.nbytes > self.max_bytes:
            _, dropped = self._memory.popitem(last=False)
            self.nbytes -= _nbytes(dropped)


def clear_embedding_cache(directory: Path | str) -> tuple[int, int]:
    """Delete every ``<key>.pt`` file (and leftover temporary file) of the cache folder
    ``directory``; returns (files deleted, bytes freed). A missing folder is already clear."""
    directory = Path(directory)
    if not directory.is_dir():
        return 0, 0
    files, freed = 0, 0
    for path in directory.iterdir():
        if path.is_file() and (path.suffix == ".pt" or ".tmp-" in path.name):
            freed += path.stat().st_size
            path.unlink()
            files += 1
    return files, freed


def _entries(directory: Path | None) -> list[tuple[Path, os.stat_result]]:
    """(path, stat) of the folder's ``.pt`` files (none without a folder or when it is missing)."""
    if directory is None or not directory.is_dir():
        return []
    return [(p, p.stat()) for p in directory.glob("*.pt") if p.is_file()]


def _nbytes(entry: CachedEmbedding) -> int:
    return entry.features.numel() * entry.features.element_size()
