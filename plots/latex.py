"""Compiling a LaTeX file with whatever engine is installed, and counting a PDF's pages.

``pdflatex`` is preferred (run twice, so references resolve), then ``tectonic`` (which reruns by
itself). Neither is a Python dependency: without one, :func:`find_engine` returns None and the
caller keeps the ``.tex`` file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Engines in order of preference.
ENGINES = ("pdflatex", "tectonic")
#: Seconds one engine run may take.
TIMEOUT_S = 180.0


class LatexError(RuntimeError):
    """The engine failed; the message holds the end of its log."""


@dataclass(frozen=True)
class CompileResult:
    """The ``engine`` that ran, the ``pdf`` it wrote next to the ``.tex`` file and its number of
    ``pages`` (None when it could not be read)."""

    engine: str
    pdf: Path
    pages: int | None


def find_engine() -> str | None:
    """The first of :data:`ENGINES` on the PATH, or None."""
    return next((name for name in ENGINES if shutil.which(name)), None)


def compile_latex(tex: Path) -> CompileResult:
    """Compile ``tex`` in its own folder (figures it includes are looked up next to it) with
    :func:`find_engine`'s engine and count the pages of the PDF.

    Raises:
        LatexError: no engine is installed, or a run failed or took over :data:`TIMEOUT_S`
            (the message ends with its log).
    """
    engine = find_engine()
    if engine is None:
        raise LatexError(f"no LaTeX engine on the PATH (looked for {', '.join(ENGINES)})")
    tex = Path(tex).resolve()
    once = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name]
    commands = [once, once] if engine == "pdflatex" else [["tectonic", "--keep-logs", tex.name]]
    how = {"cwd": tex.parent, "capture_output": True, "text": True, "errors": "replace"}
    for cmd in commands:
        try:
            proc = subprocess.run(cmd, **how, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise LatexError(f"{engine} did not finish within {TIMEOUT_S:.0f} s") from exc
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
            raise LatexError(f"{engine} failed on {tex} (exit {proc.returncode}):\n{tail}")
    pdf = tex.with_suffix(".pdf")
    if not pdf.is_file():
        raise LatexError(f"{engine} ran but wrote no {pdf}")
    log = tex.with_suffix(".log")
    return CompileResult(engine, pdf, count_pdf_pages(pdf, log if log.is_file() else None))


def count_pdf_pages(pdf: Path, log: Path | None = None) -> int | None:
    """Pages of ``pdf``: from the LaTeX log's "Output written on X (N pages" line (pdflatex and
    tectonic write it), else the largest ``/Count`` of an uncompressed page tree; None when both
    fail."""
    if log is not None:
        match = re.search(r"Output written on .*?\((\d+) pages?", log.read_text(errors="replace"))
        if match:
            return int(match.group(1))
    counts = re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", Path(pdf).read_bytes())
    return max(int(c) for c in counts) if counts else None
