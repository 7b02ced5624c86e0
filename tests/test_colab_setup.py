"""The notebook's fresh-runtime set-up (evaluation.colab): when it uses the real artefacts or the
offline stand-ins, and its downloads, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from pathlib import Path

import pytest

from evaluation import colab
from evaluation.rehearsal import serve_folder

CLOSED = "http://127.0.0.1:9/synthetic_shapes.zip"  # the discard port: connection refused


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_plan_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not colab.plan_runtime({"CAMSAM_OFFLINE": "1"}).online
    assert not colab.plan_runtime({"CAMSAM_SMOKE": "1"}).online
    (tmp_path / "synthetic_shapes.zip").write_bytes(b"zip")
    with serve_folder(tmp_path) as url:
        plan = colab.plan_runtime({"CAMSAM_DATA_URL": f"{url}/synthetic_shapes.zip"})
    assert plan.online and "answers" in plan.reason
    offline = colab.plan_runtime({"CAMSAM_DATA_URL": CLOSED}, timeout=5)
    assert not offline.online and "does not answer" in offline.reason  # the project is here
    monkeypatch.setattr(colab, "project_importable", lambda: False)
    with pytest.raises(colab.SetupError, match=r"does not answer.*CAMSAM_OFFLINE=1"):
        colab.plan_runtime({"CAMSAM_DATA_URL": CLOSED}, timeout=5)
    assert colab.course_data_url({}) == colab.COURSE_DATA_URL
    assert colab.COURSE_DATA_URL.startswith("https://www.mimuw.edu.pl/")


def test_fetch_course_data(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    _zip(
        served / "synthetic_shapes.zip",
        {"synthetic_shapes/images/test/0.png": b"png", "synthetic_shapes/labels/test/0.txt": b"x"},
    )
    _zip(served / "wrong.zip", {"readme.txt": b"nothing"})
    data = tmp_path / "data"
    with serve_folder(served) as url:
        root = colab.fetch_course_data(data, {"CAMSAM_DATA_URL": f"{url}/synthetic_shapes.zip"})
        assert root == data / "synthetic_shapes"
        assert (root / "images" / "test" / "0.png").read_bytes() == b"png"
        assert (data / "synthetic_shapes.zip").is_file()  # where the template's wget -nc looks
        assert colab.fetch_course_data(data, {"CAMSAM_DATA_URL": CLOSED}) == root  # no-op
        other = tmp_path / "other"
        with pytest.raises(colab.SetupError, match="holds no synthetic_shapes/images/test"):
            colab.fetch_course_data(other, {"CAMSAM_DATA_URL": f"{url}/wrong.zip"})
        assert not (other / "synthetic_shapes").exists()
    with pytest.raises(colab.SetupError, match=r"127.0.0.1:9.*images/test exists"):
        colab.fetch_course_data(tmp_path / "offline", {"CAMSAM_DATA_URL": CLOSED}, timeout=5)


def test_fetch_sam_checkpoint_checks_the_md5(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / "sam.pth").write_bytes(b"stand-in SAM weights")
    right = hashlib.md5(b"stand-in SAM weights").hexdigest()
    with serve_folder(served) as url:
        env = {"CAMSAM_SAM_URL": f"{url}/sam.pth"}
        with pytest.raises(colab.SetupError, match=r"MD5.*01ec64d29a2fca3f0661936605ae66f8"):
            colab.fetch_sam_checkpoint(tmp_path / "ck", env)  # the official MD5 by default
        assert not list((tmp_path / "ck").glob("*"))
        path = colab.fetch_sam_checkpoint(tmp_path / "ck", {**env, "CAMSAM_SAM_MD5": right})
    assert path == tmp_path / "ck" / "sam_vit_b_01ec64.pth"
    assert path.read_bytes() == b"stand-in SAM weights"
    assert colab.fetch_sam_checkpoint(tmp_path / "ck", {"CAMSAM_SAM_URL": CLOSED}) == path


def test_ensure_pip_package(monkeypatch: pytest.MonkeyPatch) -> None:
    assert colab.ensure_pip_package("json", "json") == "json is installed"
    calls = []

    def failing_pip(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 1, "", "no such package")

    monkeypatch.setattr(colab.subprocess, "run", failing_pip)
    with pytest.raises(colab.SetupError, match=r"(?s)could not install not-a-package.*no such"):
        colab.ensure_pip_package("not_a_module_here", "not-a-package")
    assert calls[0][-2:] == ["-q", "not-a-package"] and "torch" not in calls[0]
