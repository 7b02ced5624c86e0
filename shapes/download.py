"""Downloading the course's own dataset (needs the internet)."""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from tqdm import tqdm

COURSE_DATASET_URL = "https://www.mimuw.edu.pl/~mwrochna/upload/synthetic_shapes.zip"


def download_course_dataset(
    out: Path | str, url: str = COURSE_DATASET_URL, timeout: float = 30.0
) -> Path:
    """Fetch and unpack the course's ``synthetic_shapes.zip`` so that ``out`` holds its layout.

    Raises:
        RuntimeError: the download failed (for example offline); names the URL and ``out``.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        archive = Path(tmp) / "synthetic_shapes.zip"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, archive.open("wb") as f:
                total = int(resp.headers.get("Content-Length", 0)) or None
                with tqdm(
                    total=total, unit="B", unit_scale=True, desc="synthetic_shapes.zip"
                ) as bar:
                    while chunk := resp.read(1 << 16):
                        f.write(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError) as exc:
            raise RuntimeError(
                f"could not download the course dataset from {url} ({exc}). Download it by hand "
                f"and unzip it so that {out}/images/train exists, or generate a look-alike with "
                "'python scripts/prepare_data.py'."
            ) from exc
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(unpacked)
        roots = [p.parent.parent for p in unpacked.rglob("images/train")]
        if not roots:
            raise RuntimeError(f"{url} did not contain an images/train folder")
        if out.exists():
            shutil.rmtree(out)
        shutil.move(str(roots[0]), out)
    return out
