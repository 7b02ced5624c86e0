"""Downloading the course's own dataset (needs the internet).

The dataset is unpacked into a temporary folder beside ``out`` and renamed into place only when
complete; it gets this project's marker (``generation.json`` with ``"generator":
"camsam.download"``), so a later ``--overwrite`` may replace it. An existing ``out`` is replaced
only with ``overwrite=True`` and only when it carries that marker (see
:func:`shapes.generate.check_output`); both are checked before the download starts.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from tqdm import tqdm

from common.atomic import make_temp_dir
from common.errors import UserError
from common.guard import replace_dir
from shapes.generate import check_output
from shapes.marker import GENERATOR_PREFIX, MARKER_FILE

COURSE_DATASET_URL = "https://www.mimuw.edu.pl/~mwrochna/upload/synthetic_shapes.zip"


def download_course_dataset(
    out: Path | str, url: str = COURSE_DATASET_URL, timeout: float = 30.0, overwrite: bool = False
) -> Path:
    """Fetch and unpack the course's ``synthetic_shapes.zip`` so that ``out`` holds its layout.

    Raises:
        FileExistsError: ``out`` exists and ``overwrite`` is False.
        common.UserError: ``out`` may not be replaced (see :func:`shapes.generate.check_output`),
            or the download failed (for example offline); names the URL and ``out``.
    """
    out = Path(out)
    check_output(out, overwrite)
    tmp = make_temp_dir(out)
    try:
        archive = tmp / "synthetic_shapes.zip"
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
            raise UserError(
                f"could not download the course dataset from {url} ({exc}). Download it by hand "
                f"and unzip it so that {out}/images/train exists, or generate a look-alike with "
                "'python scripts/prepare_data.py'."
            ) from exc
        unpacked = tmp / "unpacked"
        try:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(unpacked)
        except zipfile.BadZipFile as exc:
            raise UserError(f"{url} did not give a readable zip archive ({exc})") from exc
        roots = [p.parent.parent for p in unpacked.rglob("images/train")]
        if not roots:
            raise UserError(f"{url} did not contain an images/train folder")
        meta = {"generator": f"{GENERATOR_PREFIX}download", "url": url}
        (roots[0] / MARKER_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        if out.exists():  # checked above; it may have appeared since
            check_output(out, overwrite)
        replace_dir(roots[0], out)
    finally:
        shutil.rmtree(tmp)
    return out
