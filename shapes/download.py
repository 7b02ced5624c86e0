"""Downloading the course's own dataset (needs the internet) for ``prepare_data.py --download``.

The dataset is unpacked into a temporary folder beside ``out`` and renamed into place only when
complete; it gets this project's marker (``generation.json`` with ``"generator":
"camsam.download"``), so a later ``--overwrite`` may replace it. An existing ``out`` is replaced
only with ``overwrite=True`` and only when it carries that marker (see
:func:`shapes.generate.check_output`); both are checked before the download starts.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from common.atomic import make_temp_dir
from common.errors import UserError
from common.guard import replace_dir
from shapes.course_zip import COURSE_DATA_URL, unpack_course_zip
from shapes.generate import check_output
from shapes.marker import GENERATOR_PREFIX, MARKER_FILE


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
        meta = {"generator": f"{GENERATOR_PREFIX}download", "url": url}
        (root / MARKER_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        if out.exists():  # checked above; it may have appeared since
            check_output(out, overwrite)
        replace_dir(root, out)
    finally:
        shutil.rmtree(tmp)
    return out
