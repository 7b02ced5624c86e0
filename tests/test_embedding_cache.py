"""The SAM embedding cache on disk: hit, miss, corrupt entry (reported, deleted, recomputed),
another checkpoint or precision misses, the size cap evicts the least recently used files, and
the folder can be cleared (function and ``compare_strategies.py --clear-embedding-cache``);
background writes land on flush, a failed one raises, and a read from disk waits for them."""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from common.cli import run
from sam_pipelines import SamSegmenter
from sam_pipelines.embedding_cache import (
    CachedEmbedding,
    EmbeddingCache,
    checkpoint_identity,
    clear_embedding_cache,
    embedding_key,
    model_identity,
)

ROOT = Path(__file__).resolve().parents[1]
POINT, LABEL = np.array([[20.5, 10.5]]), np.array([1])


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 48, 64, 3), dtype=np.uint8)


def _entry(value: float = 1.0) -> CachedEmbedding:
    return CachedEmbedding(torch.full((1, 4, 8, 8), value), (48, 64), (48, 64))


def _segmenter(tiny_sam, folder: Path, model_id: str = "tiny") -> SamSegmenter:
    return SamSegmenter(model=tiny_sam, model_id=model_id, device="cpu", cache_dir=folder)


def test_hit_and_miss_across_runs(tiny_sam, tmp_path: Path) -> None:
    images = _images(3)
    first = _segmenter(tiny_sam, tmp_path)
    assert first.encode(images, batch_size=2, progress=False) == 3
    assert first.cache.misses == 3 and len(list(tmp_path.glob("*.pt"))) == 3
    first.set_image(images[1])
    expected = first.predict(POINT, LABEL)
    again = _segmenter(tiny_sam, tmp_path)  # a later run: memory empty, disk full
    assert again.encode(images, progress=False) == 0
    assert again.encoder_calls == 0 and again.cache.disk_hits == 3
    again.set_image(images[1])
    for a, b in zip(expected, again.predict(POINT, LABEL), strict=True):
        np.testing.assert_array_equal(a, b)
    assert again.encode(_images(1, seed=9), progress=False) == 1  # a new image misses


def test_corrupt_entry_is_reported_deleted_and_recomputed(
    tiny_sam, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    image = _images(1)
    _segmenter(tiny_sam, tmp_path).encode(image, progress=False)
    (path,) = tmp_path.glob("*.pt")
    path.write_bytes(b"not a torch file")
    fresh = _segmenter(tiny_sam, tmp_path)
    with caplog.at_level(logging.WARNING):
        assert fresh.encode(image, progress=False) == 1
    assert f"unreadable embedding cache entry {path}" in caplog.text
    assert fresh.encoder_calls == 1 and path.stat().st_size > 1000  # rewritten
    assert _segmenter(tiny_sam, tmp_path).encode(image, progress=False) == 0


def test_another_checkpoint_or_precision_misses(tiny_sam, tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "sam.pth", tmp_path / "b" / "sam.pth"
    for path, payload in ((a, b"x" * 10), (b, b"y" * 11)):
        path.parent.mkdir()
        path.write_bytes(payload)
    assert checkpoint_identity(a) != checkpoint_identity(b)  # same name, other size
    before = checkpoint_identity(a)
    os.utime(a, ns=(1, 1))
    assert checkpoint_identity(a) != before  # same file, replaced: other mtime
    image = _images(1)
    folder = tmp_path / "cache"
    assert _segmenter(tiny_sam, folder, checkpoint_identity(a)).encode(image, progress=False) == 1
    assert _segmenter(tiny_sam, folder, checkpoint_identity(b)).encode(image, progress=False) == 1
    assert _segmenter(tiny_sam, folder, checkpoint_identity(a)).encode(image, progress=False) == 0
    ids = {model_identity(t, "w", p) for t in ("vit_b", "vit_l") for p in ("float32", "bfloat16")}
    assert len({embedding_key(image[0], i) for i in ids}) == 4


def test_size_cap_evicts_the_least_recently_used(tmp_path: Path) -> None:
    cache = EmbeddingCache(directory=tmp_path)
    cache.put("a", _entry())
    size = (tmp_path / "a.pt").stat().st_size
    capped = EmbeddingCache(directory=tmp_path, max_disk_bytes=2 * size)
    capped.put("b", _entry())
    for age, key in enumerate("ab"):  # "a" older than "b"
        os.utime(tmp_path / f"{key}.pt", ns=(age * 10**9, age * 10**9))
    assert EmbeddingCache(directory=tmp_path).get("a") is not None  # a hit: "a" now the newest
    capped.put("c", _entry())
    assert sorted(p.stem for p in tmp_path.glob("*.pt")) == ["a", "c"]
    assert capped.evicted == 1 and capped.disk_bytes <= 2 * size
    with pytest.raises(ValueError, match="max_disk_bytes"):
        EmbeddingCache(max_disk_bytes=-1)


def test_background_writes_land_on_flush(tmp_path: Path) -> None:
    cache = EmbeddingCache(directory=tmp_path, background_writes=True, max_pending=2)
    for i, key in enumerate("abcd"):
        cache.put(key, _entry(float(i)))
        assert len(cache._pending) <= 2  # bounded: each pending write holds a host copy
    cache.flush()
    assert sorted(p.stem for p in tmp_path.glob("*.pt")) == list("abcd")
    got = EmbeddingCache(directory=tmp_path).get("c")
    assert got is not None and float(got.features[0, 0, 0, 0]) == 2.0
    assert cache.disk_bytes == sum(p.stat().st_size for p in tmp_path.glob("*.pt"))


def test_a_disk_read_waits_for_the_background_writes(tmp_path: Path) -> None:
    cache = EmbeddingCache(max_bytes=0, directory=tmp_path, background_writes=True)
    cache.put("a", _entry(3.0))  # kept on disk only (no memory)
    got = cache.get("a")
    assert got is not None and cache.disk_hits == 1 and float(got.features.max()) == 3.0


def test_a_failed_background_write_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    cache = EmbeddingCache(directory=blocker / "cache", background_writes=True)
    cache.put("a", _entry())
    with pytest.raises(OSError):
        cache.flush()


def test_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = EmbeddingCache(directory=tmp_path)
    for key in "ab":
        cache.put(key, _entry())
    assert clear_embedding_cache(tmp_path)[0] == 2 and not list(tmp_path.glob("*.pt"))
    assert clear_embedding_cache(tmp_path / "missing") == (0, 0)
    folder = tmp_path / "run" / "sam_embeddings"
    EmbeddingCache(directory=folder).put("k", _entry())
    spec = importlib.util.spec_from_file_location("cs", ROOT / "scripts" / "compare_strategies.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    argv = ["--cache-dir", str(tmp_path / "run"), "--clear-embedding-cache"]
    with pytest.raises(SystemExit) as done:
        run(script.main, script.build_parser(), argv)
    assert done.value.code == 0 and not list(folder.glob("*.pt"))
    assert f"cleared {folder}: 1 file(s)" in capsys.readouterr().out
