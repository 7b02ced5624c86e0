"""The exception type for a user's mistake (a bad file, folder or option)."""

from __future__ import annotations


class UserError(ValueError):
    """A mistake in what the user gave (a missing or unreadable file, a bad option value); the
    message names the file, folder or option and what is wrong. Scripts print it as ``error:
    <message>`` and exit with status 2 (:func:`common.cli.run`)."""
