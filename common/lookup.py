"""Looking a name up in a registry, with a suggestion when the name is unknown."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TypeVar

V = TypeVar("V")


def lookup(
    name: str,
    table: Mapping[str, V],
    what: str,
    *,
    plural: str | None = None,
    error: type[Exception] = LookupError,
) -> V:
    """``table[name]``; an unknown name raises ``error``: ``unknown <what> 'x'. Did you mean
    'y'? Known <plural>: a, b, c`` (``what`` e.g. ``"strategy"``, ``plural`` default
    ``what + "s"``)."""
    try:
        return table[name]
    except KeyError:
        known = sorted(table)
        close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.0)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise error(
            f"unknown {what} {name!r}.{hint} Known {plural or what + 's'}: {', '.join(known)}"
        ) from None
