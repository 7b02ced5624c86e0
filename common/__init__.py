"""Project-wide plumbing with one job per module: user-facing errors (:mod:`common.errors`),
atomic writes and temporary names (:mod:`common.atomic`), the guard that keeps commands from
deleting what they did not write (:mod:`common.guard`) and the scripts' top-level error
handler (:mod:`common.cli`)."""

from common.errors import UserError

__all__ = ["UserError"]
