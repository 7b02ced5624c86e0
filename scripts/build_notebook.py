"""Build ``notebook.ipynb``: the assignment's template cells, in order, plus the project's cells.

The ``[do not modify]`` cells (and the template's imports) are read from the assignment's
template text, so they stay byte-for-byte what the course gave; everything else comes from
``NOTEBOOK_CELLS`` below. Run it after editing those cells::

    python scripts/build_notebook.py --template ../shared/seeds/000_3e2b199b5f0f4e62.txt
    python scripts/build_notebook.py --check     # exit 1 if notebook.ipynb is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

DEFAULT_TEMPLATE = Path("../shared/seeds/000_3e2b199b5f0f4e62.txt")


def _fix_mojibake(line: str) -> str:
    """The template text was saved through cp1252; undo that where it round-trips."""
    try:
        return line.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return line


def template_cells(text: str) -> dict[str, list[str]]:
    """Code blocks of the template keyed by the ``##`` header they sit under."""
    cells: dict[str, list[str]] = {}
    header = None
    block: list[str] | None = None
    for raw in text.splitlines():
        line = _fix_mojibake(raw)
        if block is not None:
            if line.strip() == "```":
                cells.setdefault(header or "", []).append("\n".join(block).strip("\n"))
                block = None
            else:
                block.append(line)
        elif re.match(r"^```\w*\s*$", line):
            block = []
        elif line.startswith("#"):
            header = line.lstrip("#").strip()
    return cells


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(text.strip("\n"))


def build(template: dict[str, list[str]]) -> nbformat.NotebookNode:
    from notebook_cells import NOTEBOOK_CELLS  # scripts/notebook_cells.py

    cells = []
    for kind, text in NOTEBOOK_CELLS:
        if kind == "template":
            if text not in template:
                raise KeyError(f"the template has no code under the header {text!r}")
            cells += [code(block) for block in template[text]]
        elif kind == "md":
            cells.append(md(text))
        else:
            cells.append(code(text))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if not args.template.is_file():
        sys.exit(f"error: template {args.template} not found (pass --template PATH)")
    nb = build(template_cells(args.template.read_text(encoding="utf-8")))
    text = nbformat.writes(nb) + "\n"
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        strip = lambda t: [c["source"] for c in nbformat.reads(t, 4).cells] if t else []  # noqa: E731
        if strip(current) != strip(text):
            print(f"{args.out} is out of date: run python scripts/build_notebook.py")
            return 1
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out} ({len(nb.cells)} cells)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    p.add_argument("--out", type=Path, default=Path("notebook.ipynb"))
    p.add_argument("--check", action="store_true")
    return p


if __name__ == "__main__":
    sys.exit(main(build_parser().parse_args()))
