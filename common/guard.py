"""The rule that keeps commands from deleting what they did not write.

A folder may be replaced only when it carries the marker file of the code that wrote it, and
never when it is the working directory, one of its parents, the home folder or ``/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from common.atomic import temp_path
from common.errors import UserError


def check_replaceable(
    path: Path | str, is_ours: Callable[[Path], bool], marker: str, option: str = "--out"
) -> None:
    """Raise unless ``path`` (named ``option`` on the command line) may be deleted to make room
    for a new version of it: ``is_ours`` says whether a folder carries the writer's ``marker``
    (e.g. ``"generation.json"``).

    Raises:
        UserError: ``path`` is protected (see the module docstring), a symbolic link, not a
            folder, or has no marker; the message says what to do instead.
    """
    path = Path(path)
    resolved = path.resolve()
    cwd = Path.cwd().resolve()
    if resolved in {cwd, *cwd.parents, Path.home().resolve(), Path("/")}:
        raise UserError(
            f"refusing to replace {option} {path}: it is {resolved}, the working directory, one "
            "of its parents, the home folder or /; choose a new folder"
        )
    if path.is_symlink():
        raise UserError(f"refusing to replace {option} {path}: it is a symbolic link")
    if not path.is_dir():
        raise UserError(f"refusing to replace {option} {path}: it is a file, not a folder")
    if not is_ours(path):
        raise UserError(
            f"refusing to replace {option} {path}: it has no {marker}, so this project did not "
            "write it; delete it yourself or choose another folder"
        )


def replace_dir(new: Path | str, out: Path | str) -> Path:
    """Move the finished folder ``new`` to ``out`` (checked with :func:`check_replaceable`),
    replacing an old ``out``, which is renamed aside first and deleted last, so ``out`` never
    mixes the two. Returns ``out``."""
    new, out = Path(new), Path(out)
    if not out.exists():
        os.rename(new, out)
        return out
    trash = temp_path(out)
    os.rename(out, trash)
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(trash, out)
        raise
    shutil.rmtree(trash)
    return out
