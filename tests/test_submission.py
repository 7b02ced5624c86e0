"""The submission packer refuses unexecuted notebooks and packs what the assignment asks for."""

from __future__ import annotations

import importlib.util
import re
import runpy
import subprocess
import sys
import zipfile
from pathlib import Path
from unittest import mock

import nbformat
import pytest

from evaluation.submission import notebook_is_executed, pack_submission, validate_colab_url

ROOT = Path(__file__).resolve().parents[1]
COLAB = "https://colab.research.google.com/drive/1AbC_d-E"


def _notebook(path: Path, executed: bool, error: bool = False) -> Path:
    cell = nbformat.v4.new_code_cell("print(1)")
    if executed:
        cell.execution_count = 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
        if error:
            cell.outputs.append(
                nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[])
            )
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path


def test_unexecuted_or_failed_notebook_is_refused(tmp_path: Path) -> None:
    raw = _notebook(tmp_path / "raw.ipynb", executed=False)
    assert not notebook_is_executed(raw)[0]
    with pytest.raises(ValueError, match="unexecuted"):
        pack_submission(tmp_path / "s.zip", raw, COLAB, project_root=ROOT)
    failed = _notebook(tmp_path / "failed.ipynb", executed=True, error=True)
    assert "ValueError" in notebook_is_executed(failed)[1]
    assert not (tmp_path / "s.zip").exists()


def test_packs_notebook_readme_report_and_packages(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "notebook.ipynb", executed=True)
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4\n")
    names = pack_submission(tmp_path / "s.zip", nb, COLAB, report, project_root=ROOT)
    assert {
        "notebook.ipynb",
        "README.md",
        "report.pdf",
        "cam/methods.py",
        "sam_pipelines/approaches.py",
        "prompting/registry.py",
    } <= set(names)
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        assert COLAB in zf.read("README.md").decode()
    with pytest.raises(ValueError, match="Colab"):
        pack_submission(tmp_path / "t.zip", nb, " ", project_root=ROOT)


@pytest.mark.parametrize(
    "url",
    [
        COLAB,
        "https://colab.research.google.com/github/user/repo/blob/main/notebook.ipynb",
        "  https://drive.google.com/file/d/1AbC/view?usp=sharing  ",
    ],
)
def test_colab_links_to_colab_or_drive_are_accepted(url: str) -> None:
    assert validate_colab_url(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "file:///etc/passwd",
        "http://colab.research.google.com/drive/1",
        "https://colab.example/nb",
        "https://colab.research.google.com.evil.example/drive/1",
        "https://colab.research.google.com@evil.example/drive/1",
        "https://colab.research.google.com/drive/1 }\\input{/etc/passwd}",
        "javascript:alert(1)",
    ],
)
def test_other_links_are_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a Colab link"):
        validate_colab_url(url)
    nb = _notebook(tmp_path / "notebook.ipynb", executed=True)
    with pytest.raises(ValueError, match="not a Colab link"):
        pack_submission(tmp_path / "s.zip", nb, url, project_root=ROOT)
    assert not (tmp_path / "s.zip").exists()


def _script():
    """scripts/make_submission.py as a module (its main() runs in this process)."""
    path = ROOT / "scripts" / "make_submission.py"
    spec = importlib.util.spec_from_file_location("make_submission", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _script_main(*args: str) -> int:
    """The exit status of ``make_submission.py args`` (run in this process, as __main__)."""
    path = ROOT / "scripts" / "make_submission.py"
    with mock.patch.object(sys, "argv", [str(path), *args]), pytest.raises(SystemExit) as done:
        runpy.run_path(str(path), run_name="__main__")
    return done.value.code


def test_script_takes_report_pdf_from_report_folder_by_default() -> None:
    args = _script().build_parser().parse_args(["--colab", COLAB])
    assert args.report == Path("report/report.pdf") and not args.no_report


def test_script_refuses_a_missing_report_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)  # the packages are packed from the working directory
    nb = _notebook(tmp_path / "notebook.ipynb", executed=True)
    out = tmp_path / "s.zip"
    missing = tmp_path / "report" / "report.pdf"
    common = ("--colab", COLAB, "--notebook", str(nb), "--out", str(out))
    assert _script_main(*common, "--report", str(missing)) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "scripts/make_report.py" in err and "--no-report" in err
    assert not out.exists()
    assert _script_main(*common, "--report", str(missing), "--no-report") == 0
    with zipfile.ZipFile(out) as zf:
        assert "report.pdf" not in zf.namelist() and "notebook.ipynb" in zf.namelist()
    missing.parent.mkdir()
    missing.write_bytes(b"%PDF-1.4\n")
    assert _script_main(*common, "--report", str(missing)) == 0
    with zipfile.ZipFile(out) as zf:
        assert "report.pdf" in zf.namelist()


@pytest.mark.parametrize("url", ["not a url", "file:///etc/passwd"])
def test_script_refuses_a_bad_colab_link(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = _notebook(tmp_path / "notebook.ipynb", executed=True)
    assert _script_main("--colab", url, "--notebook", str(nb), "--no-report") == 2
    assert "not a Colab link" in capsys.readouterr().err


def test_packed_packages_import_on_their_own(tmp_path: Path) -> None:
    """Every package pyproject.toml installs is in the zip, and each imports from the
    unpacked folder alone (a package missing from the zip, like `common` once, fails here)."""
    nb = _notebook(tmp_path / "notebook.ipynb", executed=True)
    names = pack_submission(tmp_path / "s.zip", nb, COLAB, project_root=ROOT)
    include = re.search(r"^include = \[(.*)\]$", (ROOT / "pyproject.toml").read_text(), re.M)
    assert include is not None, "pyproject.toml lists no packages (include = [...])"
    packages = sorted(re.findall(r'"(\w+)\*"', include.group(1)))
    assert "common" in packages and len(packages) >= 10
    assert {name.split("/")[0] for name in names if name.endswith(".py")} == set(packages)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        zf.extractall(unpacked)
    code = (
        "import importlib, pathlib, sys\n"
        "root = pathlib.Path(sys.argv[1]).resolve()\n"
        "for name in sys.argv[2:]:\n"
        "    module = importlib.import_module(name)\n"
        "    assert root in pathlib.Path(module.__file__).resolve().parents, module.__file__\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(unpacked), *packages],
        cwd=unpacked,
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
