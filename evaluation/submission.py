"""Packing the assignment's submission archive (notebook, report, README with the Colab link,
and the project packages the notebook imports)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

#: Packages the notebook imports (directly or through each other).
PACKAGES = ("common", "shapes", "classifier", "cam", "prompting", "metrics", "sam_pipelines")
PACKAGES += ("evaluation", "plots", "supervised")
#: Hosts a Colab link may point to.
COLAB_HOSTS = ("colab.research.google.com", "drive.google.com")
#: Characters a link may hold (RFC 3986; no spaces, quotes, braces or backslashes).
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
#: The command that writes the report PDF (named when it is missing).
REPORT_COMMAND = "python scripts/make_report.py"


def validate_colab_url(url: str) -> str:
    """``url`` without surrounding spaces, when it is an ``https://`` link to Colab or Google
    Drive; anything else (``file://``, ``http://``, another host, a user-info trick like
    ``https://colab.research.google.com@evil.example``) raises a ValueError."""
    url = url.strip()
    parts = urlsplit(url)
    if (
        parts.scheme != "https"
        or (parts.hostname or "") not in COLAB_HOSTS
        or parts.username is not None
        or not _URL_CHARS.fullmatch(url)
    ):
        raise ValueError(
            f"not a Colab link: {url!r}; expected an https:// link to "
            f"{' or '.join(COLAB_HOSTS)} (e.g. https://{COLAB_HOSTS[0]}/drive/ID)"
        )
    return url


def notebook_is_executed(path: Path) -> tuple[bool, str]:
    """Whether every code cell of the notebook at ``path`` ran (has an execution count) and no
    cell output is an error; the string says which cell is the first problem."""
    import nbformat  # a test / packing dependency, not a runtime one

    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    if not code:
        return False, f"{path} has no code cells"
    for i, cell in enumerate(code):
        if cell.get("execution_count") is None:
            return False, f"code cell {i} of {path} has not been executed"
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return False, f"code cell {i} of {path} ended with {out.get('ename')}"
    return True, "all code cells executed"


def pack_submission(
    out: Path,
    notebook: Path,
    colab_url: str,
    report: Path | None = None,
    project_root: Path = Path("."),
) -> list[str]:
    """Write the zip (the notebook, a README.md with the Colab link, the report, the packages and
    the requirements); returns the archive's member names.

    Raises:
        ValueError: the notebook has not been executed start to end, or ``colab_url`` is not an
            https:// link to Colab or Google Drive (see :func:`validate_colab_url`).
        FileNotFoundError: the notebook, the report or a package is missing.
    """
    colab_url = validate_colab_url(colab_url)
    if report is not None and not report.is_file():
        raise FileNotFoundError(
            f"report PDF {report} not found: make it with '{REPORT_COMMAND} --colab {colab_url}' "
            "(or pass --report PATH, or --no-report to pack without it)"
        )
    if not notebook.is_file():
        raise FileNotFoundError(f"notebook {notebook} not found")
    ok, why = notebook_is_executed(notebook)
    if not ok:
        raise ValueError(f"refusing to pack an unexecuted notebook: {why}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(notebook, notebook.name)
        zf.writestr(
            "README.md",
            "# Homework 2: image segmentation without user input\n\n"
            f"Colab version of the notebook: {colab_url}\n\n"
            "The notebook imports the packages in this archive (run it from the archive's root).\n",
        )
        if report is not None:
            zf.write(report, report.name)
        for package in PACKAGES:
            folder = project_root / package
            if not folder.is_dir():
                raise FileNotFoundError(f"package folder {folder} not found")
            for path in sorted(folder.rglob("*.py")):
                zf.write(path, str(path.relative_to(project_root)))
        for extra in ("requirements.txt", "pyproject.toml"):
            if (project_root / extra).is_file():
                zf.write(project_root / extra, extra)
        return zf.namelist()
