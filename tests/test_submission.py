"""The submission packer refuses unexecuted notebooks and packs what the assignment asks for."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest

from evaluation.submission import notebook_is_executed, pack_submission

ROOT = Path(__file__).resolve().parents[1]


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
        pack_submission(tmp_path / "s.zip", raw, "https://colab/x", project_root=ROOT)
    failed = _notebook(tmp_path / "failed.ipynb", executed=True, error=True)
    assert "ValueError" in notebook_is_executed(failed)[1]
    assert not (tmp_path / "s.zip").exists()


def test_packs_notebook_readme_report_and_packages(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "notebook.ipynb", executed=True)
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4\n")
    names = pack_submission(
        tmp_path / "s.zip", nb, "https://colab.example/nb", report, project_root=ROOT
    )
    assert {
        "notebook.ipynb",
        "README.md",
        "report.pdf",
        "cam/methods.py",
        "sam_pipelines/approaches.py",
        "prompting/registry.py",
    } <= set(names)
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        assert "https://colab.example/nb" in zf.read("README.md").decode()
    with pytest.raises(ValueError, match="Colab"):
        pack_submission(tmp_path / "t.zip", nb, " ", project_root=ROOT)
