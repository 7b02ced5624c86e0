"""The shared safety plumbing: the scripts' error handler, atomic writes, stale temporary
entries, staged result files, the output-folder probe, cache entries and the deletion guard."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.atomic import (
    atomic_write,
    atomic_write_text,
    ensure_writable_dir,
    make_temp_dir,
    read_or_discard,
    remove_stale_temps,
    staged_files,
    temp_path,
)
from common.cli import positive_int, run
from common.errors import UserError
from common.guard import check_replaceable, replace_dir

ROOT = Path(__file__).resolve().parents[1]
#: notebook_cells.py is data (the notebook's cells), not a script
NOT_CHECKED = {"notebook_cells.py"}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ------------------------------------------------------------------------------ cli.run
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=positive_int, default=1)
    return p


@pytest.mark.parametrize(
    ("exc", "status", "text"),
    [
        (UserError("--data nowhere does not exist"), 2, "error: --data nowhere does not exist\n"),
        (FileNotFoundError(2, "No such file or directory", "x.json"), 2, "error: No such file"),
        (KeyboardInterrupt(), 130, "interrupted\n"),
    ],
)
def test_run_turns_user_errors_and_ctrl_c_into_one_line(
    exc: BaseException, status: int, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def main(args: argparse.Namespace) -> int:
        raise exc

    with pytest.raises(SystemExit) as done:
        run(main, _parser(), [])
    assert done.value.code == status
    err = capsys.readouterr().err
    assert err.startswith(text) and err.count("\n") == 1


def test_run_keeps_tracebacks_for_bugs_and_returns_mains_status() -> None:
    def buggy(args: argparse.Namespace) -> int:
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        run(buggy, _parser(), [])
    with pytest.raises(SystemExit) as done:
        run(lambda args: args.n + 2, _parser(), ["--n", "3"])
    assert done.value.code == 5


def test_positive_int_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run(lambda args: 0, _parser(), ["--n", "0"])
    assert done.value.code == 2
    assert "argument --n: must be >= 1, got 0" in capsys.readouterr().err


def test_every_script_uses_the_shared_handler() -> None:
    scripts = sorted(p for p in (ROOT / "scripts").glob("*.py") if p.name not in NOT_CHECKED)
    assert scripts
    for script in scripts:
        text = script.read_text()
        main_block = text[text.index('if __name__ == "__main__":') :]
        assert "run(main, build_parser()" in main_block, script.name
        assert 'sys.exit(f"error' not in text, script.name


def test_ctrl_c_in_a_script_prints_one_line(tmp_path: Path) -> None:
    """A real script interrupted by SIGINT while it runs exits 130 with one line."""
    code = (
        "import argparse, os, signal\n"
        "from common.cli import run\n"
        "def main(args):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "run(main, argparse.ArgumentParser())\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 130
    assert done.stderr == "interrupted\n"


# --------------------------------------------------------------------------- atomic writes
def test_atomic_write_leaves_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    atomic_write_text(target, "old")

    def failing(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, failing)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_stale_temporaries_of_dead_processes_are_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "ds"
    dead = tmp_path / f".ds.tmp-{_dead_pid()}-abcd"
    (dead / "images").mkdir(parents=True)
    (dead / "images" / "x.png").write_bytes(b"x")
    alive = temp_path(target)  # this process: still running
    alive.mkdir()
    user_file = tmp_path / ".ds.tmp-notes"  # not a name this project makes
    user_file.write_text("mine")
    other = tmp_path / f".other.tmp-{_dead_pid()}-abcd"
    other.write_text("x")
    with caplog.at_level(logging.WARNING):
        removed = remove_stale_temps(target)
    assert removed == [dead] and not dead.exists()
    assert alive.exists() and user_file.exists() and other.exists()
    assert str(dead) in caplog.text


FILES = ["figure.png", "metrics.json", "predictions.npz"]


def test_staged_files_move_together_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.json").write_text("old metrics")
    (out / "predictions.npz").write_text("old predictions")
    (out / "figure.png").write_text("user's figure")
    with pytest.raises(RuntimeError, match="boom"), staged_files(out) as stage:
        (stage / "metrics.json").write_text("new metrics")
        raise RuntimeError("boom")
    assert (out / "metrics.json").read_text() == "old metrics"
    assert sorted(p.name for p in out.iterdir()) == [
        "figure.png",
        "metrics.json",
        "predictions.npz",
    ]
    with staged_files(out) as stage:
        (stage / "metrics.json").write_text("new metrics")
        (stage / "predictions.npz").write_text("new predictions")
    assert (out / "metrics.json").read_text() == "new metrics"
    assert (out / "predictions.npz").read_text() == "new predictions"
    assert sorted(p.name for p in out.iterdir()) == [
        "figure.png",
        "metrics.json",
        "predictions.npz",
    ]


def test_ensure_writable_dir(tmp_path: Path) -> None:
    assert ensure_writable_dir(tmp_path / "a" / "b", "--out").is_dir()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(UserError, match=r"--out .*file\.txt is a file, not a folder"):
        ensure_writable_dir(a_file, "--out")
    with pytest.raises(UserError, match=r"--out .*file\.txt/sub is not a writable folder"):
        ensure_writable_dir(a_file / "sub", "--out")
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == []


def test_read_or_discard_reports_deletes_and_returns_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entry = tmp_path / "entry.json"
    assert read_or_discard(entry, lambda p: p.read_text(), "cache entry") is None
    entry.write_text("{trunc")
    import json

    with caplog.at_level(logging.WARNING):
        got = read_or_discard(entry, lambda p: json.loads(p.read_text()), "cache entry")
    assert got is None and not entry.exists()
    assert f"unreadable cache entry {entry}" in caplog.text
    entry.write_text('{"a": 1}')
    assert read_or_discard(entry, lambda p: json.loads(p.read_text()), "x") == {"a": 1}


# ------------------------------------------------------------------------------- the guard
def _ours(path: Path) -> bool:
    return (path / "MARK").is_file()


def test_guard_refuses_unmarked_files_links_and_protected_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("mine")
    with pytest.raises(UserError, match="has no MARK, so this project did not write it"):
        check_replaceable(notes, _ours, "MARK")
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    with pytest.raises(UserError, match="is a file"):
        check_replaceable(a_file, _ours, "MARK")
    link = tmp_path / "link"
    link.symlink_to(notes)
    with pytest.raises(UserError, match="symbolic link"):
        check_replaceable(link, _ours, "MARK")
    work = tmp_path / "work" / "sub"
    work.mkdir(parents=True)
    for protected in (work, work.parent, tmp_path):
        (protected / "MARK").write_text("")
    monkeypatch.chdir(work)
    for spelled in (".", "..", str(tmp_path), "/", str(Path.home())):
        with pytest.raises(UserError, match="working directory, one of its parents"):
            check_replaceable(Path(spelled), lambda p: True, "MARK")
    assert (notes / "todo.txt").read_text() == "mine"


def test_replace_dir_swaps_folders(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    out.mkdir()
    (out / "old").write_text("old")
    new = make_temp_dir(out)
    (new / "new").write_text("new")
    replace_dir(new, out)
    assert sorted(p.name for p in out.iterdir()) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]
