"""Project-wide plumbing, one job per module: user errors, atomic writes, the delete guard, the
scripts' error handler and parser helpers, ``--device``, JSON files and registry lookups."""

from common.errors import UserError

__all__ = ["UserError"]
