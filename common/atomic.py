"""Atomic writes, temporary names, and the clean-up of what a killed run left behind.

Every file the project caches or reports is written under a temporary name in its own folder,
``.<name>.tmp-<pid>-<random>``, and renamed into place (``os.replace``, atomic on POSIX), so
no reader ever sees a half-written file. A run killed between the two steps leaves its
temporary entry behind; :func:`remove_stale_temps` deletes the entries whose writing process
has exited, and every writer here calls it first. Folders (a generated dataset, a set of
result files) follow the same scheme through :func:`make_temp_dir` and :func:`staged_files`.
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


def _writer_pid(entry: str, target: str) -> int | None:
    """The process id in a temporary name made by :func:`temp_path` for ``target``, or None."""
    prefix = f".{target}{TMP_MARK}"
    if not entry.startswith(prefix):
        return None
    pid, sep, _ = entry[len(prefix) :].partition("-")
    return int(pid) if sep and pid.isdigit() else None


def process_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` runs on this machine (True when unsure)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def remove_stale_temps(target: Path) -> list[Path]:
    """Delete the temporary files or folders of ``target`` whose writing process has exited.

    Only names made by :func:`temp_path` for exactly this ``target`` are considered; an entry
    of a process that still runs (a parallel run) is kept. Each removal is logged.

    Returns:
        The paths removed.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return []
    removed = []
    for entry in sorted(target.parent.glob(f".{glob.escape(target.name)}{TMP_MARK}*")):
        pid = _writer_pid(entry.name, target.name)
        if pid is None or process_alive(pid):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink(missing_ok=True)
        log.warning("removed %s, left behind by an interrupted run (process %d)", entry, pid)
        removed.append(entry)
    return removed


def atomic_write(path: Path | str, write: Callable[[Path], object]) -> Path:
    """Write ``path`` (its folder is created) through a temporary name and rename it into place;
    returns ``path``. ``write`` is called with the temporary path and must create that file
    (open it by path: some writers, such as ``np.save(str)``, append their own suffix to a
    name). On any error (Ctrl-C included) the temporary file is removed and ``path`` is left
    as it was."""
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
    """A temporary folder inside ``dest`` whose files move into ``dest`` together.

    Write every file of a set into the yielded folder; when the block ends without an error
    they are renamed into ``dest`` one after the other (nothing but renames, so an old file
    set is never mixed with a half-written new one); on an error nothing in ``dest`` changes.
    Files of ``dest`` that the block did not write are left alone.
    """
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
    """Create folder ``path`` if needed and check that a file can be written in it; ``option``
    is how the user named it (``"--out"``), for the message.

    Raises:
        UserError: ``path`` is a file, cannot be created, or is not writable.
    """
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

    An entry that cannot be read (truncated, empty, of an older format: ``read`` raises one of
    :data:`CORRUPT_ENTRY_ERRORS`) is reported by path, deleted, and None is returned so that the
    caller recomputes and rewrites it. ``what`` names the entry in the message (e.g. ``"CAM
    cache entry"``).
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
