"""Pack the assignment's .zip: the executed notebook, the report PDF, a README with the Colab
link, and the project packages the notebook imports.

Examples::

    python scripts/make_report.py --colab https://colab.research.google.com/drive/ID
    python scripts/make_submission.py --colab https://colab.research.google.com/drive/ID
    python scripts/make_submission.py --colab URL --report other/report.pdf --out submission.zip
    python scripts/make_submission.py --colab URL --no-report      # pack without the report

A missing report is refused unless --no-report is given. The Colab link must be an https://
link to colab.research.google.com or drive.google.com. Exit status 2 on a refused input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common.cli import run, script_parser
from evaluation.submission import REPORT_COMMAND, pack_submission

DEFAULT_REPORT = Path("report/report.pdf")


def build_parser() -> argparse.ArgumentParser:
    p = script_parser(__doc__)
    p.add_argument("--colab", required=True, help="https:// link to the notebook on Colab")
    p.add_argument("--notebook", type=Path, default=Path("notebook.ipynb"))
    report = f"report PDF (default: {DEFAULT_REPORT}, written by {REPORT_COMMAND})"
    p.add_argument("--report", type=Path, default=DEFAULT_REPORT, help=report)
    no_report = "pack without a report PDF (not a full submission)"
    p.add_argument("--no-report", action="store_true", help=no_report)
    p.add_argument("--out", type=Path, default=Path("submission.zip"))
    return p


def main(args: argparse.Namespace) -> None:
    report = None if args.no_report else args.report
    names = pack_submission(args.out, args.notebook, args.colab, report)
    print(f"wrote {args.out} ({len(names)} files{'' if report else ', no report'})")


if __name__ == "__main__":
    run(main, build_parser(), user_errors=(ValueError,))  # refused inputs: exit status 2
