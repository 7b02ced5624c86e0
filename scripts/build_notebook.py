"""Build ``notebook.ipynb``: the assignment's template, kept byte for byte and in order, with
the cells of ``scripts/notebook_cells.py`` (package modules inlined as code cells, without their
imports from earlier inlined modules and their ``@register_strategy(...)`` decorators; an import
the notebook cannot satisfy is an error). Examples::

    python scripts/build_notebook.py                 # write notebook.ipynb
    python scripts/build_notebook.py --check         # exit 1 if notebook.ipynb is out of date
    python scripts/build_notebook.py --template ../shared/seeds/000_3e2b199b5f0f4e62.txt
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from common.cli import run, script_parser
from common.errors import UserError
from evaluation.submission import PACKAGES

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATE = ROOT.parent / "shared" / "seeds" / "000_3e2b199b5f0f4e62.txt"
PROJECT_PACKAGES = set(PACKAGES)
REGISTRATION_DECORATORS = {"register_strategy"}


class BuildError(ValueError):
    """The notebook cannot be built as specified; the message names the module and the name."""


def _fix_mojibake(line: str) -> str:
    """The template text was saved through cp1252; undo that where it round-trips."""
    try:
        return line.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return line


@dataclass
class TemplateSection:
    """A header of the template and what follows it up to the next header, in order:
    ``("md", text)`` and ``("code", text)`` pieces (the header line opens the first md)."""

    header: str
    pieces: list[tuple[str, str]] = field(default_factory=list)


def template_sections(text: str) -> list[TemplateSection]:
    """Split the template into header sections, keeping every line of markdown and code."""
    sections: list[TemplateSection] = []
    prose: list[str] = []
    block: list[str] | None = None

    def flush_prose() -> None:
        chunk = "\n".join(prose).strip("\n")
        if chunk.strip() and sections:
            sections[-1].pieces.append(("md", chunk))
        prose.clear()

    for raw in text.splitlines():
        line = _fix_mojibake(raw)
        if block is not None:
            if line.strip() == "```":
                sections[-1].pieces.append(("code", "\n".join(block).strip("\n")))
                block = None
            else:
                block.append(line)
        elif re.match(r"^```\w*\s*$", line):
            flush_prose()
            block = []
        elif line.startswith("#"):
            flush_prose()
            sections.append(TemplateSection(line.lstrip("#").strip()))
            prose.append(line)
        else:
            prose.append(line)
    flush_prose()
    return sections


def _section_index(sections: list[TemplateSection], header: str) -> int:
    for i, section in enumerate(sections):
        if section.header == header:
            return i
    raise BuildError(f"the template has no header {header!r}")


@dataclass
class Inliner:
    """Turns package modules into notebook code, tracking the names defined so far."""

    root: Path
    defined: dict[str, set[str]] = field(default_factory=dict)  # module -> top-level names

    def module_source(self, relpath: str) -> str:
        """The code cell for ``relpath`` (e.g. ``"cam/base.py"``); see the module docstring."""
        source = (self.root / relpath).read_text(encoding="utf-8")
        tree = ast.parse(source, filename=relpath)
        drop: set[int] = set()  # 0-based line numbers
        for node in tree.body:
            if isinstance(node, ast.ImportFrom | ast.Import):
                is_from = isinstance(node, ast.ImportFrom)
                modules = [node.module or ""] if is_from else [a.name for a in node.names]
                if not any(m.split(".")[0] in PROJECT_PACKAGES for m in modules):
                    continue
                self._check_import(relpath, node)
                drop.update(range(node.lineno - 1, node.end_lineno))
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                for deco in node.decorator_list:
                    target = deco.func if isinstance(deco, ast.Call) else deco
                    if isinstance(target, ast.Name) and target.id in REGISTRATION_DECORATORS:
                        drop.update(range(deco.lineno - 1, deco.end_lineno))
        kept = [line for i, line in enumerate(source.splitlines()) if i not in drop]
        module = relpath.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        self.defined[module] = _top_level_names(tree)
        text = "\n".join(kept)
        text = re.sub(r"\n{3,}(?=\S)", "\n\n\n", text)  # no gaps left where imports were
        return f"# ---- inlined from {relpath} ----\n{text.strip()}\n"

    def _check_import(self, relpath: str, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            raise BuildError(f"{relpath}: 'import {node.names[0].name}' cannot be inlined")
        module = node.module or ""
        names = {alias.name for alias in node.names}
        if names <= REGISTRATION_DECORATORS:
            return
        if module not in self.defined:
            raise BuildError(
                f"{relpath} imports {sorted(names)} from {module}, which the notebook does not "
                "inline before it (inline that module first, or import it inside a function "
                "that the notebook does not call)"
            )
        missing = names - self.defined[module] - REGISTRATION_DECORATORS
        if missing:
            raise BuildError(f"{relpath} imports {sorted(missing)} that {module} does not define")


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def cell(kind: str, text: str) -> nbformat.NotebookNode:
    """A markdown (``kind`` ``"md"``) or code cell holding ``text`` less its outer newlines."""
    new = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
    return new(text.strip("\n"))


def _stable_ids(cells: list[nbformat.NotebookNode]) -> None:
    """Give each cell an id derived from its type and text (nbformat draws random ones), so
    that rebuilding the notebook changes only the ids of the cells whose text changed; a
    repeated cell gets a counter in its hash."""
    seen: dict[str, int] = {}
    for c in cells:
        key = f"{c.cell_type}\0{c.source}"
        seen[key] = seen.get(key, 0) + 1
        c.id = hashlib.sha1(f"{key}\0{seen[key]}".encode()).hexdigest()[:8]


def build(template_text: str, cells_spec: list[tuple[str, ...]], root: Path = ROOT):
    """The notebook for ``cells_spec`` (see ``scripts/notebook_cells.py`` for the entries)."""
    sections = template_sections(template_text)
    inliner = Inliner(root)
    cells = []
    for kind, *args in cells_spec:
        if kind in ("template", "template_md"):
            start = _section_index(sections, args[0])
            stop = _section_index(sections, args[1]) if len(args) > 1 else start + 1
            for section in sections[start:stop]:
                pieces = [
                    (k, text) for k, text in section.pieces if k == "md" or kind == "template"
                ]
                cells += [cell(k, text) for k, text in pieces]
        elif kind in ("md", "code"):
            cells.append(cell(kind, args[0]))
        elif kind == "module":
            cells.append(cell("code", inliner.module_source(args[0])))
        else:
            raise BuildError(f"unknown cell kind {kind!r} in the notebook's cell list")
    _stable_ids(cells)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata.update(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python"},
        accelerator="GPU",
        colab={"provenance": [], "gpuType": "T4"},
    )
    return nb


def cell_sources(text: str) -> list[tuple[str, str]]:
    """(cell type, source) of every cell of a notebook's JSON text."""
    return [(c["cell_type"], c["source"]) for c in nbformat.reads(text, 4).cells] if text else []


def main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from notebook_cells import NOTEBOOK_CELLS  # scripts/notebook_cells.py

    if not args.template.is_file():
        raise UserError(f"template {args.template} not found (pass --template PATH)")
    nb = build(args.template.read_text(encoding="utf-8"), NOTEBOOK_CELLS)
    text = nbformat.writes(nb) + "\n"
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if cell_sources(current) != cell_sources(text):
            print(f"{args.out} is out of date: run python scripts/build_notebook.py")
            return 1
        print(f"{args.out} is up to date ({len(nb.cells)} cells)")
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out} ({len(nb.cells)} cells)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    p.add_argument("--out", type=Path, default=ROOT / "notebook.ipynb")
    p.add_argument("--check", action="store_true", help="exit 1 if the notebook is out of date")
    return p


if __name__ == "__main__":
    run(main, build_parser(), user_errors=(BuildError,))
