"""Draft the assignment's 1-2 page report (report.tex, compiled to report.pdf when pdflatex or
tectonic is installed) from what compare_strategies.py and make_figures.py saved.

Examples::

    python scripts/make_report.py --colab https://colab.research.google.com/drive/ID
    python scripts/make_report.py --results runs/sam --out runs/sam/report --colab URL
    python scripts/make_report.py --approaches flood_heat flood_heat_bg --no-compile

Reads metrics.json (and per_image.csv, predictions.npz when present) from --results and the
figures from --figures (default: --results); writes report.tex with copies of the figures it
includes into --out. The discussion is a draft built from the numbers: edit it before
submitting (a report.tex edited by hand is not overwritten without --force).

Exit status: 0 done, 1 the PDF has more than 2 pages or LaTeX failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.cli import run, script_parser
from evaluation.results import MissingResultsError
from plots.make import add_results_options
from plots.report import MAX_PAGES, LatexError, ReportEditedError, ReportOptions, write_report

#: Exit status 2 (an unknown approach is a UserError, a bad Colab link a ValueError).
USER_ERRORS = (MissingResultsError, ReportEditedError, ValueError)


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    approaches = "approach 1 (foreground points only) and 2 (foreground + background points)"
    add_results_options(p, approaches)
    figures = "folder written by make_figures.py --out (default: --results)"
    p.add_argument("--figures", type=Path, help=figures)
    p.add_argument("--out", type=Path, default=Path("report"), help="where the report goes")
    p.add_argument("--colab", help="https:// link to the notebook on Colab")
    p.add_argument("--author", help="author line under the title (optional)")
    no_compile = "write report.tex only, even with LaTeX"
    p.add_argument("--no-compile", action="store_true", help=no_compile)
    p.add_argument("--force", action="store_true", help="overwrite a report.tex edited by hand")
    return p


def main(args: argparse.Namespace) -> int:
    options = ReportOptions(
        approaches=(args.approaches[0], args.approaches[1]),
        colab_url=args.colab,
        author=args.author,
        full_table=str((args.results / "metrics.tex").as_posix()),
    )
    try:
        outcome = write_report(
            args.results, args.out, options, args.figures, not args.no_compile, args.force
        )
    except LatexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for message in outcome.warnings:
        print(f"warning: {message}", file=sys.stderr)
    print(f"wrote {outcome.tex}")
    compiled = outcome.compiled
    if compiled is None:
        return 0
    pages = "?" if compiled.pages is None else compiled.pages
    print(f"compiled {compiled.pdf} with {compiled.engine}: {pages} page(s)")
    if compiled.pages is not None and compiled.pages > MAX_PAGES:
        allowed = f"the assignment allows at most {MAX_PAGES} (shorten the text or the figures)"
        print(f"error: {compiled.pdf} has {pages} pages; {allowed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run(main, build_parser(), user_errors=USER_ERRORS)
