"""Atomic writes, temporary names, and the clean-up of what a killed run left behind.

Every file is written under a temporary name ``.<name>.tmp-<pid>-<random>`` beside it and
renamed into place (``os.replace``), so no reader sees a half-written file. Every writer here
first deletes the temporary entries of exited processes (:func:`remove_stale_temps`). Folders
follow the same scheme (:func:`make_temp_dir`, :func:`staged_files`).
"""

from __future__ import annotations

import glob
import logging
import os
import pickle
import secrets
import shutil
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from common.cli import error_message
from common.errors import UserError

log = logging.getLogger(__name__)
T = TypeVar("T")

TMP_MARK = ".tmp-"

#: What reading a truncated, empty or foreign cache entry can raise (torch, numpy, json, zip).
CORRUPT_ENTRY_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    ValueError,  # includes json.JSONDecodeError and numpy's format errors
    RuntimeError,  # torch: "PytorchStreamReader failed reading zip archive"
    KeyError,
    TypeError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
)


def temp_path(target: Path) -> Path:
    """A fresh temporary name beside ``target``: ``.<name>.tmp-<pid>-<8 hex digits>``."""
    target = Path(target)
    return target.parent / f".{target.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"


def process_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` runs on this machine (True when unsure)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def remove_stale_temps(target: Path) -> list[Path]:
    """Delete (and log) the temporary files or folders that :func:`temp_path` named for
    ``target`` and whose writing process has exited (a parallel run's are kept); returns the
    paths removed."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    removed = []
    prefix = f".{target.name}{TMP_MARK}"
    for entry in sorted(target.parent.glob(f"{glob.escape(prefix)}*")):
        pid, sep, _ = entry.name[len(prefix) :].partition("-")
        if not (sep and pid.isdigit()) or process_alive(int(pid)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink(missing_ok=True)
        log.warning("removed %s, left behind by an interrupted run (process %d)", entry, int(pid))
        removed.append(entry)
    return removed


def atomic_write(path: Path | str, write: Callable[[Path], object]) -> Path:
    """Write ``path`` (its folder is created) through a temporary name and rename it into place;
    returns ``path``. ``write(tmp)`` must create the file ``tmp`` by that exact name (beware
    ``np.save(str)``, which appends a suffix). On any error (Ctrl-C included) the temporary file
    is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    tmp = temp_path(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path | str, text: str) -> Path:
    """:func:`atomic_write` of a UTF-8 text file."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def make_temp_dir(target: Path | str) -> Path:
    """A new empty temporary folder beside ``target`` (stale ones of ``target`` removed first)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    tmp = temp_path(target)
    tmp.mkdir()
    return tmp


@contextmanager
def staged_files(dest: Path | str) -> Iterator[Path]:
    """A temporary folder inside ``dest`` whose files are renamed into ``dest`` together when the
    block ends without an error (an old set is never mixed with a half-written new one); on an
    error nothing in ``dest`` changes. Other files of ``dest`` are left alone."""
    dest = Path(dest)
    staging = make_temp_dir(dest / "staging")
    try:
        yield staging
        for entry in sorted(staging.iterdir()):
            os.replace(entry, dest / entry.name)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def ensure_writable_dir(path: Path | str, option: str) -> Path:
    """Create folder ``path`` if needed and check that a file can be written in it, else raise
    a :class:`UserError` naming it as ``option`` (e.g. ``"--out"``)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{option} {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = temp_path(path / "write-probe")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"{option} {path} is not a writable folder ({error_message(exc)})") from exc
    return path


def read_or_discard(path: Path | str, read: Callable[[Path], T], what: str) -> T | None:
    """``read(path)`` for a cache entry; None when it is absent or unreadable.

    An unreadable entry (``read`` raises one of :data:`CORRUPT_ENTRY_ERRORS`) is reported by
    path and ``what`` (e.g. ``"CAM cache entry"``) and deleted, so the caller recomputes it.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return read(path)
    except CORRUPT_ENTRY_ERRORS as exc:
        log.warning("unreadable %s %s (%s): deleted, recomputing it", what, path, exc)
        path.unlink(missing_ok=True)
        return None
