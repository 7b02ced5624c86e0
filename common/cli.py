"""The top-level handler every script runs its ``main`` through, and shared parser helpers.

``run(main, parser)`` turns a user's mistake (:class:`common.errors.UserError`, a listed type,
:data:`USER_OS_ERRORS` or any OS error naming its file) into one line ``error: <message>`` and
exit status 2, Ctrl-C into ``interrupted`` and status 130; other exceptions are bugs and keep
their traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from common.errors import UserError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

#: OS errors that come from the user's paths rather than from the code.
USER_OS_ERRORS: tuple[type[OSError], ...] = (
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)


def error_message(exc: BaseException) -> str:
    """The one-line text for a user error: the message, or for an OS error its reason and path."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc) or type(exc).__name__


def run(
    main: Callable[[argparse.Namespace], int | None],
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None = None,
    user_errors: tuple[type[BaseException], ...] = (),
) -> NoReturn:
    """Parse ``argv`` (default ``sys.argv[1:]``) with ``parser``, run ``main(args)`` and exit
    (:class:`SystemExit`) with its return value (None means 0), 2 for a user error (also any of
    ``user_errors``) or 130 for Ctrl-C."""
    try:
        args = parser.parse_args(argv)
        status = main(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except (UserError, *USER_OS_ERRORS, *user_errors) as exc:
        _fail(exc)
    except OSError as exc:
        if exc.filename is None:
            raise  # no file to blame: treat it as a bug
        _fail(exc)
    sys.exit(status or 0)


def _fail(exc: BaseException) -> NoReturn:
    print(f"error: {error_message(exc)}", file=sys.stderr)
    sys.exit(EXIT_USER_ERROR)


def positive_int(text: str) -> int:
    """argparse ``type=`` for options that must be an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


class HelpFormatter(argparse.RawTextHelpFormatter):
    """The script's docstring as written; an option's default, when it has one, after its help."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "(default" in text or any(action.default is v for v in (None, False, True)):
            return text
        return text if action.default is argparse.SUPPRESS else f"{text} (default: %(default)s)"


def script_parser(doc: str | None) -> argparse.ArgumentParser:
    """The parser a script starts from: its docstring as the description, :class:`HelpFormatter`."""
    return argparse.ArgumentParser(description=doc, formatter_class=HelpFormatter)
