"""Pack the assignment's .zip: the executed notebook, the report PDF, a README with the Colab
link, and the project packages the notebook imports.

Examples::

    python scripts/make_submission.py --colab https://colab.research.google.com/drive/ID
    python scripts/make_submission.py --colab URL --report report.pdf --out submission.zip
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evaluation.submission import pack_submission


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--colab", required=True, help="link to the Colab version of the notebook")
    p.add_argument("--notebook", type=Path, default=Path("notebook.ipynb"))
    p.add_argument("--report", type=Path, default=None, help="report PDF (optional)")
    p.add_argument("--out", type=Path, default=Path("submission.zip"))
    return p


def main(args: argparse.Namespace) -> int:
    names = pack_submission(args.out, args.notebook, args.colab, args.report)
    print(f"wrote {args.out} ({len(names)} files)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(build_parser().parse_args()))
    except (ValueError, FileNotFoundError) as exc:
        sys.exit(f"error: {exc}")
