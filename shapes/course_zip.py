"""The course's dataset zip: its URL, downloading it and unpacking it.

Stdlib and tqdm only: the submission notebook inlines this module (``evaluation.colab`` fetches
the data with it), and ``shapes.download`` wraps it for ``prepare_data.py --download``.
"""

from __future__ import annotations

import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from tqdm import tqdm

COURSE_DATA_URL = "https://www.mimuw.edu.pl/~mwrochna/upload/synthetic_shapes.zip"


def unpack_course_zip(url: str, data_dir: Path, timeout: float = 60.0) -> Path:
    """``data_dir / "synthetic_shapes"`` with the course dataset from ``url`` (nothing is done
    when it has its ``images`` folder). The zip is downloaded (via a ``.part`` name) to
    ``data_dir / "synthetic_shapes.zip"`` unless it is there (where the template's ``wget -nc``
    finds it), unpacked in ``data_dir`` and the folder holding ``images/test`` moved into place.

    Raises:
        OSError: the download failed (``urllib.error.URLError`` is one), or the archive holds
            no ``images/test`` (FileNotFoundError).
        zipfile.BadZipFile: the download is not a zip archive.
    """
    root = data_dir / "synthetic_shapes"
    if (root / "images").is_dir():
        return root
    archive = data_dir / "synthetic_shapes.zip"
    if not archive.is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        part = archive.with_name(archive.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, part.open("wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=archive.name) as bar:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        bar.update(len(chunk))
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        part.replace(archive)
    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
        found = sorted(p.parent.parent for p in Path(tmp).rglob("images/test"))
        if not found:
            raise FileNotFoundError(f"{archive} (from {url}) holds no synthetic_shapes/images/test")
        shutil.move(str(found[0]), root)
    return root
