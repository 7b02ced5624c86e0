"""Downloading the course's own dataset (needs the internet) for ``prepare_data.py --download``.

Unpacked beside ``out`` and renamed into place when complete, with this project's marker
(generator ``camsam.download``); ``out`` is checked before the download, as
:func:`shapes.generate.generate_dataset` checks it.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from common.atomic import make_temp_dir
from common.errors import UserError
from shapes.course_zip import COURSE_DATA_URL, unpack_course_zip
from shapes.generate import GENERATOR_PREFIX, check_output, publish


def download_course_dataset(
    out: Path | str, url: str = COURSE_DATA_URL, timeout: float = 30.0, overwrite: bool = False
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
        try:
            root = unpack_course_zip(url, tmp, timeout)
        except (OSError, zipfile.BadZipFile) as exc:
            raise UserError(
                f"could not get the course dataset from {url} ({exc}). Download it by hand "
                f"and unzip it so that {out}/images/train exists, or generate a look-alike with "
                "'python scripts/prepare_data.py'."
            ) from exc
        publish(root, out, {"generator": f"{GENERATOR_PREFIX}download", "url": url}, overwrite)
    finally:
        shutil.rmtree(tmp)
    return out
