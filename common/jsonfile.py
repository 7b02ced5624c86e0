"""Reading a JSON settings or results file that the project wrote, with errors naming it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from common.errors import UserError


def read_json_object(
    path: Path | str,
    required: Iterable[str],
    what: str,
    hint: str,
    error: type[Exception] = UserError,
) -> dict[str, Any]:
    """The JSON object in ``path``, which must hold at least the ``required`` keys; ``what``
    says what the file should be (``"a results file of this version"``), ``hint`` what to do
    about a bad one (``"rerun scripts/compare_strategies.py"``).

    Raises:
        error: the file cannot be read or parsed, or lacks a required key; the message names
            the file, the keys found and ``hint``.
    """
    path = Path(path)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"cannot read {path}: {exc} (truncated or edited?); {hint}") from exc
    needed = list(required)
    if not isinstance(meta, dict) or not set(needed) <= set(meta):
        found = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        wanted = " and ".join(repr(k) for k in needed)
        raise error(f"{path} is not {what} (it needs {wanted}, found {found}); {hint}")
    return meta
