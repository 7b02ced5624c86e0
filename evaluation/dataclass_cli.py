"""Command-line overrides for a dataclass of defaults.

``add_dataclass_arguments(parser, Config)`` adds one ``--field-name`` option per field (bool
fields get ``--x`` / ``--no-x``; tuple fields take several values); ``dataclass_from_args`` builds
the config back, keeping the defaults for options not given.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar

C = TypeVar("C")


def _base_type(tp: Any) -> tuple[Any, bool]:
    """(element type, is_sequence) for a field annotation such as ``int | None`` or
    ``tuple[str, ...]``."""
    origin = typing.get_origin(tp)
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin in (tuple, list):
        return (args[0] if args else str), True
    if args and origin is not None and origin is not Path:  # Union / Optional
        return _base_type(args[0])
    return tp, False


def add_dataclass_arguments(
    parser: argparse.ArgumentParser, cls: type, help_texts: dict[str, str] | None = None
) -> None:
    """Add an option per field of dataclass ``cls`` (default shown in the help)."""
    hints = typing.get_type_hints(cls)
    help_texts = help_texts or {}
    for field in dataclasses.fields(cls):
        flag = "--" + field.name.replace("_", "-")
        tp, is_seq = _base_type(hints[field.name])
        default = (
            field.default if field.default is not dataclasses.MISSING else field.default_factory()
        )  # type: ignore[misc]
        text = help_texts.get(field.name, "")
        text = f"{text} (default: {default})".strip()
        if tp is bool:
            parser.add_argument(
                flag,
                dest=field.name,
                default=None,
                action=argparse.BooleanOptionalAction,
                help=text,
            )
        elif is_seq:
            parser.add_argument(flag, dest=field.name, default=None, nargs="+", type=tp, help=text)
        else:
            parser.add_argument(flag, dest=field.name, default=None, type=tp, help=text)


def dataclass_from_args(cls: type[C], args: argparse.Namespace) -> C:
    """An instance of ``cls`` with every option that was given on the command line applied."""
    hints = typing.get_type_hints(cls)
    given: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = getattr(args, field.name, None)
        if value is None:
            continue
        _, is_seq = _base_type(hints[field.name])
        given[field.name] = tuple(value) if is_seq else value
    return cls(**given)


def to_jsonable(config: Any) -> dict[str, Any]:
    """``dataclasses.asdict`` with paths turned into strings."""

    def convert(v: Any) -> Any:
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, tuple | list):
            return [convert(x) for x in v]
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        return v

    return {k: convert(v) for k, v in dataclasses.asdict(config).items()}
