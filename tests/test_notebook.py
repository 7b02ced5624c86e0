"""The submission notebook is what ``scripts/build_notebook.py`` makes of the packages, holds
the template's cells byte for byte and in order, needs nothing of the project on an online
runtime, and runs start to end in smoke mode (tiny data, few-step classifier, classical
segmenter). The fresh-runtime run with SAM is in test_notebook_fresh_runtime.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebook.ipynb"
TEMPLATE = ROOT.parent / "shared" / "seeds" / "000_3e2b199b5f0f4e62.txt"
sys.path.insert(0, str(ROOT / "scripts"))

from build_notebook import BuildError, Inliner, build, template_sections  # noqa: E402

needs_template = pytest.mark.skipif(not TEMPLATE.is_file(), reason=f"{TEMPLATE} not found")


@needs_template
def test_notebook_is_up_to_date_with_the_packages() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_notebook.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_cell_ids_follow_the_cell_text() -> None:
    spec = [("md", "# Title"), ("code", "x = 1"), ("code", "x = 1"), ("md", "end")]
    ids = [c.id for c in build("", spec).cells]
    assert ids == [c.id for c in build("", spec).cells]  # rebuilt: the same ids
    assert len(set(ids)) == 4  # a repeated cell still gets its own id
    changed = [c.id for c in build("", [*spec[:3], ("md", "the end")]).cells]
    assert [a == b for a, b in zip(ids, changed, strict=True)] == [True, True, True, False]
    nbformat.validate(build("", spec))


@needs_template
def test_template_cells_are_kept_byte_for_byte_and_in_order() -> None:
    sections = template_sections(TEMPLATE.read_text(encoding="utf-8"))
    wanted = [
        text
        for section in sections
        if "[do not modify]" in section.header or section.header == "Imports"
        for kind, text in section.pieces
        if kind == "code"
    ]
    assert len(wanted) == 5
    sources = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells]
    positions = [sources.index(text) for text in wanted]
    assert positions == sorted(positions)
    markdown = "\n".join(sources)
    assert "CIFAR-10 download takes 170 MiB." in markdown  # the template's own markdown


def test_online_cells_import_nothing_from_the_project() -> None:
    """Project imports in the notebook sit only in the offline branches (the `else` of
    `if RUNTIME.online` and `if not RUNTIME.online`)."""
    packages = "cam|classifier|evaluation|plots|metrics|prompting|sam_pipelines|shapes"
    pattern = re.compile(rf"^\s*(from|import) ({packages})\b", re.MULTILINE)
    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        if cell.cell_type == "code" and pattern.search(cell.source):
            assert "RUNTIME.online" in cell.source, cell.source[:200]
    inlined = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells]
    for module in ("cam/base.py", "prompting/image_aware.py", "sam_pipelines/approaches.py"):
        assert any(s.startswith(f"# ---- inlined from {module} ----") for s in inlined), module


def test_inliner_strips_package_imports_and_registration(tmp_path: Path) -> None:
    (tmp_path / "prompting").mkdir()
    (tmp_path / "prompting" / "a.py").write_text("X = 1\n\ndef helper():\n    return X\n")
    (tmp_path / "prompting" / "b.py").write_text(
        "from prompting.a import helper\n"
        "from prompting.registry import register_strategy\n\n"
        "@register_strategy(\n    'b', emits_background=False, description='d'\n)\n"
        "def b(cam, image, mask=None):\n    return helper()\n"
    )
    (tmp_path / "prompting" / "c.py").write_text("from shapes.transforms import to_uint8_images\n")
    inliner = Inliner(tmp_path)
    inliner.module_source("prompting/a.py")
    code = inliner.module_source("prompting/b.py")
    assert "import" not in code and "register_strategy" not in code
    assert "def b(cam, image, mask=None):\n    return helper()" in code
    with pytest.raises(BuildError, match=r"shapes\.transforms, which the notebook does not inline"):
        inliner.module_source("prompting/c.py")


def test_notebook_keeps_the_template_sections_in_order() -> None:  # also without the template
    nb = nbformat.read(NOTEBOOK, as_version=4)
    headers = [
        line
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("#")
    ]
    wanted = [
        "## Dataset [do not modify]",
        "## Training a classifier [do not modify]",
        "# 1. GradCAM",
        "## GradCAM results [do not modify]",
    ]
    positions = [headers.index(h) for h in wanted]
    assert positions == sorted(positions)
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for needle in (
        "class SyntheticData[T](Dataset):",
        "def example_gradcam():",
        "class GradCAM(BaseCAM):",
        "class BasicSamPipeline:",
        "class ForegroundPointsPipeline(BasicSamPipeline):",
        "class ForegroundBackgroundPointsPipeline(BasicSamPipeline):",
        "def segment_heat(",
        "def summarize_run(",
        "def evaluate_pipeline(",
    ):
        assert needle in sources


@pytest.mark.skipif(
    sys.version_info < (3, 12), reason="the template's cells use Python 3.12 syntax (class C[T])"
)
def test_notebook_executes_in_smoke_mode(tmp_path: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_before = dict(os.environ)
    os.environ.update(
        {
            "CAMSAM_SMOKE": "1",
            "MPLBACKEND": "Agg",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        }
    )
    try:
        client = NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    outputs = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "segmenter: flood_fill" in outputs
    assert "mIoU" in outputs
    assert "heat-map offset: {'dx'" in outputs
    assert (tmp_path / "model_checkpoint.pth").is_file()
    assert (tmp_path / "data" / "synthetic_shapes" / "images" / "test").is_dir()
