"""Finding (or downloading) the official SAM checkpoint.

Resolution order (the first that applies wins):

1. an explicit path (``--sam-checkpoint PATH``); it must exist;
2. the ``SAM_CHECKPOINT`` environment variable; it must name an existing file;
3. ``checkpoints/<official file name>`` (relative to the working directory), e.g.
   ``checkpoints/sam_vit_b_01ec64.pth`` for ``vit_b``;
4. a download from the official URL into that path, with a progress bar and an MD5 check.

Stdlib and tqdm only (the notebook inlines it). The MD5s are those independent downloaders
(e.g. IOPaint) verify against; each starts with its file name's six hex digits.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

BASE_URL = "https://dl.fbaipublicfiles.com/segment_anything/"
ENV_VAR = "SAM_CHECKPOINT"
DEFAULT_CHECKPOINT_DIR = Path("checkpoints")


@dataclass(frozen=True)
class CheckpointInfo:
    """An official SAM v1 checkpoint: file name (also its URL's last part) and MD5."""

    file_name: str
    md5: str

    @property
    def url(self) -> str:
        return BASE_URL + self.file_name


SAM_CHECKPOINTS: Mapping[str, CheckpointInfo] = {
    "vit_b": CheckpointInfo("sam_vit_b_01ec64.pth", "01ec64d29a2fca3f0661936605ae66f8"),
    "vit_l": CheckpointInfo("sam_vit_l_0b3195.pth", "0b3195507c641ddb6910d2bb5adee89c"),
    "vit_h": CheckpointInfo("sam_vit_h_4b8939.pth", "4b8939a88964f0f4ff5f5b2642c598a6"),
}


class SamCheckpointError(RuntimeError):
    """A SAM checkpoint could not be found, downloaded, verified or loaded."""


class DownloadError(SamCheckpointError):
    """No checkpoint is on disk and none could be downloaded (the server did not answer, or
    downloading is off): a reason to fall back, unlike a file that arrived with the wrong MD5."""


def checkpoint_info(model_type: str) -> CheckpointInfo:
    """The official checkpoint of ``model_type`` (``vit_b``, ``vit_l`` or ``vit_h``)."""
    try:
        return SAM_CHECKPOINTS[model_type]
    except KeyError:
        raise SamCheckpointError(
            f"unknown SAM model type {model_type!r}; expected one of {sorted(SAM_CHECKPOINTS)}"
        ) from None


def default_checkpoint_path(
    model_type: str = "vit_b", checkpoint_dir: Path | str = DEFAULT_CHECKPOINT_DIR
) -> Path:
    """``checkpoint_dir / <official file name>``, e.g. ``checkpoints/sam_vit_b_01ec64.pth``."""
    return Path(checkpoint_dir) / checkpoint_info(model_type).file_name


def file_md5(path: Path | str) -> str:
    """The hex MD5 of a file, read in 1 MiB chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(
    url: str, dest: Path | str, md5: str | None, progress: bool = True, timeout: float = 30.0
) -> Path:
    """Download ``url`` to ``dest`` (via ``dest.part``), check its MD5, then rename into place.

    ``url`` is http(s) or file; ``dest``'s folder is created and nothing is left there on
    failure; ``md5`` None skips the check; ``timeout``: seconds to wait for the server.

    Raises:
        DownloadError: no answer or a broken transfer (the message says how to fetch by hand).
        SamCheckpointError: the MD5 differs (the partial file is deleted).
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    manual = (
        f"Without internet access, download {url} on another machine and put it at {dest} "
        f"(or pass the checkpoint path explicitly / set {ENV_VAR}=PATH)."
    )
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar_options = {"unit": "B", "unit_scale": True, "disable": not progress}
            with tqdm(total=total, desc=f"downloading {dest.name}", **bar_options) as bar:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        part.unlink(missing_ok=True)
        reason = getattr(err, "reason", err)
        raise DownloadError(f"could not download {url} ({reason}). {manual}") from err
    if md5 is not None and (actual := file_md5(part)) != md5:
        part.unlink(missing_ok=True)
        raise SamCheckpointError(
            f"the file downloaded from {url} has MD5 {actual}, expected {md5}; "
            f"it was deleted. {manual}"
        )
    part.replace(dest)
    return dest


def resolve_sam_checkpoint(
    model_type: str = "vit_b",
    path: Path | str | None = None,
    checkpoint_dir: Path | str = DEFAULT_CHECKPOINT_DIR,
    environ: Mapping[str, str] | None = None,
    download: bool = True,
    url: str | None = None,
    progress: bool = True,
    timeout: float = 30.0,
    md5: str | None = None,
) -> Path:
    """The resolution order of the module docstring: explicit path, ``SAM_CHECKPOINT``,
    ``checkpoint_dir / <official file name>``, then a download to that path.

    ``environ`` replaces ``os.environ``; ``download=False`` turns step 4 into a
    :class:`DownloadError`; ``url`` and ``md5`` replace the official ones; ``progress`` and
    ``timeout`` go to :func:`download_file`.

    Raises:
        SamCheckpointError: an explicit path or ``SAM_CHECKPOINT`` names a missing file, or
            nothing works (with the URL and the path to put the file at).
    """
    info = checkpoint_info(model_type)
    env = os.environ if environ is None else environ
    for source, value in (("the explicit checkpoint path", path), (ENV_VAR, env.get(ENV_VAR))):
        if value:
            found = Path(value).expanduser()
            if not found.is_file():
                raise SamCheckpointError(f"{source} names {found}, which is not a file")
            return found
    dest = default_checkpoint_path(model_type, checkpoint_dir)
    if dest.is_file():
        return dest
    if not download:
        raise DownloadError(
            f"no SAM {model_type} checkpoint found (no explicit path, no {ENV_VAR}, nothing at "
            f"{dest}) and downloading is off. Download {info.url} and put it at {dest}."
        )
    return download_file(url or info.url, dest, md5 or info.md5, progress, timeout)
