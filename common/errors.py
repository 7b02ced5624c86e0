"""The exception type for a user's mistake (a bad file, folder or option)."""

from __future__ import annotations


class UserError(ValueError):
    """A mistake in what the user gave: a missing or unreadable file, a bad option value.

    The message must name the file, folder or option and say what is wrong with it. Scripts
    print it as ``error: <message>`` and exit with status 2 (see :func:`common.cli.run`);
    every other exception is a bug and keeps its traceback.
    """
