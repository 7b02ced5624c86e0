"""The marker of a dataset folder this project wrote: ``generation.json`` with a ``"generator"``
entry starting with ``"camsam."``; only such a folder may be replaced with ``--overwrite``.
"""

from __future__ import annotations

import json
from pathlib import Path

MARKER_FILE = "generation.json"
GENERATOR_PREFIX = "camsam."
MARKER_DESCRIPTION = f"{MARKER_FILE} marker"


def is_project_dataset(folder: Path | str) -> bool:
    """Whether ``folder`` holds this project's marker (a readable ``generation.json``)."""
    path = Path(folder) / MARKER_FILE
    if not path.is_file():
        return False
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False  # unreadable marker: not provably ours, so never deleted
    return isinstance(meta, dict) and str(meta.get("generator", "")).startswith(GENERATOR_PREFIX)
