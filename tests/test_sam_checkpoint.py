"""SAM checkpoint resolution (explicit path, SAM_CHECKPOINT, checkpoints/, download with MD5),
the offline error message, and ``--segmenter auto``'s choice and warning. No test touches the
network: downloads go to file:// URLs or to a closed local port."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sam_pipelines import SamCheckpointError, make_segmenter
from sam_pipelines.checkpoint import (
    SAM_CHECKPOINTS,
    DownloadError,
    checkpoint_info,
    default_checkpoint_path,
    download_file,
    resolve_sam_checkpoint,
)
from sam_pipelines.flood_fill import FloodFillSegmenter
from sam_pipelines.segmenters import SegmenterFallbackWarning

OFFICIAL_VIT_B = "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth"


def _touch(path: Path, content: bytes = b"weights") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_official_names_urls_and_md5s() -> None:
    assert checkpoint_info("vit_b").url == OFFICIAL_VIT_B
    assert default_checkpoint_path("vit_b") == Path("checkpoints/sam_vit_b_01ec64.pth")
    assert default_checkpoint_path("vit_h", "ck").name == "sam_vit_h_4b8939.pth"
    assert sorted(SAM_CHECKPOINTS) == ["vit_b", "vit_h", "vit_l"]
    for info in SAM_CHECKPOINTS.values():  # every MD5 starts with its file name's six digits
        assert info.md5.startswith(info.file_name.rsplit("_", 1)[1].removesuffix(".pth"))
    with pytest.raises(SamCheckpointError, match="vit_x"):
        checkpoint_info("vit_x")


def test_resolution_order(tmp_path: Path) -> None:
    ck_dir = tmp_path / "checkpoints"
    explicit = _touch(tmp_path / "mine.pth")
    from_env = _touch(tmp_path / "env.pth")
    env = {"SAM_CHECKPOINT": str(from_env)}
    with pytest.raises(DownloadError):
        _find("vit_b", None, ck_dir, {})
    default = _touch(default_checkpoint_path("vit_b", ck_dir))
    assert _find("vit_b", None, ck_dir, {}) == default
    with pytest.raises(DownloadError):  # per model type
        _find("vit_l", None, ck_dir, {})
    assert _find("vit_b", None, ck_dir, env) == from_env
    assert _find("vit_b", explicit, ck_dir, env) == explicit


def _find(*args) -> Path:
    return resolve_sam_checkpoint(*args, download=False)


def test_missing_explicit_or_env_checkpoint_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pth"
    with pytest.raises(SamCheckpointError, match=r"explicit checkpoint path.*nope.pth"):
        _find("vit_b", missing, tmp_path, {})
    with pytest.raises(SamCheckpointError, match=r"SAM_CHECKPOINT.*nope.pth"):
        _find("vit_b", None, tmp_path, {"SAM_CHECKPOINT": str(missing)})


def test_offline_error_names_the_url_and_the_destination(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/sam_vit_b_01ec64.pth"  # the discard port: connection refused
    with pytest.raises(SamCheckpointError) as err:
        resolve_sam_checkpoint("vit_b", None, tmp_path, {}, url=url, progress=False, timeout=5)
    message = str(err.value)
    dest = default_checkpoint_path("vit_b", tmp_path)
    assert url in message and str(dest) in message and "SAM_CHECKPOINT" in message
    assert not dest.exists() and not list(tmp_path.glob("*.part"))


def test_offline_error_for_the_official_url(tmp_path: Path, monkeypatch) -> None:
    def no_network(*_args, **_kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    with pytest.raises(SamCheckpointError) as err:
        resolve_sam_checkpoint("vit_b", None, tmp_path, {}, progress=False)
    assert OFFICIAL_VIT_B in str(err.value) and "no route to host" in str(err.value)
    assert str(default_checkpoint_path("vit_b", tmp_path)) in str(err.value)
    with pytest.raises(DownloadError, match=r"downloading is off.*sam_vit_b_01ec64"):
        resolve_sam_checkpoint("vit_b", None, tmp_path, {}, download=False)


def test_download_checks_the_md5(tmp_path: Path) -> None:
    source = _touch(tmp_path / "src" / "weights.bin", b"not really SAM" * 1000)
    url = source.as_uri()
    dest = tmp_path / "ck" / "sam.pth"
    right = hashlib.md5(source.read_bytes()).hexdigest()
    assert download_file(url, dest, right, progress=False) == dest
    assert dest.read_bytes() == source.read_bytes()
    dest.unlink()
    with pytest.raises(SamCheckpointError, match=r"MD5.*expected 0000.*deleted"):
        download_file(url, dest, "0" * 32, progress=False)
    assert not dest.exists() and not list(dest.parent.glob("*.part"))
    # the resolution checks the official MD5 whatever the URL
    with pytest.raises(SamCheckpointError, match="01ec64d29a2fca3f0661936605ae66f8"):
        resolve_sam_checkpoint("vit_b", None, tmp_path / "ck", {}, url=url, progress=False)


CLOSED_PORT = "http://127.0.0.1:9/sam_vit_b_01ec64.pth"  # the discard port: connection refused


def test_auto_falls_back_only_when_the_download_gets_no_answer(tmp_path: Path) -> None:
    with pytest.warns(SegmenterFallbackWarning, match=r"download failed.*127.0.0.1:9.*flood_fill"):
        seg = make_segmenter("auto", checkpoint_dir=tmp_path, environ={}, url=CLOSED_PORT)
    assert isinstance(seg, FloodFillSegmenter)
    assert seg.name == "flood_fill" and seg.kind == "classical" and "sam" not in seg.describe()
    with pytest.warns(SegmenterFallbackWarning, match=r"downloading is off.*flood_fill"):
        make_segmenter("auto", checkpoint_dir=tmp_path, environ={}, download=False)


def test_auto_downloads_a_missing_checkpoint_and_uses_sam(tmp_path: Path, monkeypatch) -> None:
    """A server that answers gives SAM, never the fallback; a file with the wrong MD5 is an
    error, not a reason to fall back. (The SAM model itself is replaced by a recorder here: the
    real ViT-B load is exercised by the notebook's fresh-runtime test.)"""
    import sam_pipelines.segmenters as auto

    built: list[dict] = []
    monkeypatch.setattr(auto, "SamSegmenter", lambda **kwargs: built.append(kwargs) or "SAM")
    source = _touch(tmp_path / "server" / "sam_vit_b_01ec64.pth", b"stand-in weights")
    with pytest.raises(SamCheckpointError, match="MD5"):
        auto.auto_segmenter(checkpoint_dir=tmp_path / "ck", environ={}, url=source.as_uri())
    assert not built and not (tmp_path / "ck" / "sam_vit_b_01ec64.pth").exists()
    md5 = hashlib.md5(source.read_bytes()).hexdigest()
    monkeypatch.setattr(auto, "resolve_sam_checkpoint", _with_md5(auto.resolve_sam_checkpoint, md5))
    assert auto.auto_segmenter(checkpoint_dir=tmp_path / "ck", environ={}, url=source.as_uri())
    assert built[0]["checkpoint"] == tmp_path / "ck" / "sam_vit_b_01ec64.pth"
    assert built[0]["checkpoint"].read_bytes() == b"stand-in weights"


def _with_md5(resolve, md5: str):
    return lambda *args, **kwargs: resolve(*args, md5=md5, progress=False, **kwargs)


def test_auto_picks_sam_when_a_checkpoint_is_found(tmp_path: Path) -> None:
    """A (corrupt) file at the default path makes auto load SAM, which fails loudly: it does
    not fall back silently, and it names the file."""
    fake = _touch(default_checkpoint_path("vit_b", tmp_path), b"corrupt")
    with pytest.raises(SamCheckpointError, match=r"sam_vit_b_01ec64.pth could not be loaded"):
        make_segmenter("auto", checkpoint_dir=tmp_path, environ={}, device="cpu")
    with pytest.raises(SamCheckpointError, match=r"nope.pth"):  # an explicit path never falls back
        make_segmenter("auto", checkpoint=tmp_path / "nope.pth", environ={})
    assert fake.exists()
