"""Option values without a Pydantic `TypeAdapter` per option (start-up).

typer 0.29 converts every option value of the command being run, given or not, through a
Pydantic `TypeAdapter`; the first one imports Pydantic's schema machinery, which alone takes
`orders list` from 1.11x to 1.30x its library baseline in instructions (docs/performance.md,
*Start-up*; the target is 1.2x). typer offers no public way around it: `parser=` builds an
adapter too, and Click's types are private to typer since it vendors Click. orderctl's options
are plain (str, bool, int with or without inclusive bounds, enums, lists of those) and a value
converts in a line of Python, so this replaces typer's private `build_runtime_param` with one
that does that and hands everything else to typer's own. A value the fast path does not
accept (out of an option's bounds too) also goes to typer's adapter, so every error reads
exactly as typer writes it.

This is the one place that touches typer's internals, and it is built to fail soft: if a typer
release moves them, importing this module fails, cli/main.py skips `install()`, and every
option goes through typer's own conversion (same values and errors, slower start-up).
tests/test_startup.py compares both paths on every option of every command and fails when the
fast path is no longer in use, so a lock upgrade that loses it is seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args, get_origin

from typer import _coercion, core
from typer._param_types import coerce_cli_choice

_typer_build = _coercion.build_runtime_param

Convert = Callable[[Any, Any], Any]  # (value, Click context)


def _as_str(value: Any, ctx: Any) -> str:
    if type(value) is not str:
        raise TypeError(value)
    return value


def _as_bool(value: Any, ctx: Any) -> bool:
    if type(value) is not bool:
        raise TypeError(value)
    return value


def _as_int(value: Any, ctx: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)
    raise ValueError(value)


def _int_between(low: float | None, high: float | None) -> Convert:
    def convert(value: Any, ctx: Any) -> int:
        number = _as_int(value, ctx)
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(value)  # typer's adapter words the range error
        return number

    return convert


def _choice(choices: tuple[Any, ...], case_sensitive: bool) -> Convert:
    def convert(value: Any, ctx: Any) -> Any:
        return coerce_cli_choice(value, choices=choices, case_sensitive=case_sensitive, ctx=ctx)

    return convert


def _leaf(annotation: Any, info: Any) -> Convert | None:
    if annotation is str:
        return _as_str
    if annotation is bool:
        return _as_bool
    if annotation is int and not info.clamp:
        return (
            _as_int if info.min is None and info.max is None else _int_between(info.min, info.max)
        )
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choice(tuple(annotation), info.case_sensitive)
    return None


@dataclass(frozen=True)
class FastParam(_coercion.RuntimeParam):
    """Converts with `convert` (each item of a list with it); typer's adapter otherwise."""

    convert: Convert
    many: bool

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            if self.many:
                items = value if isinstance(value, (list, tuple)) else [value]
                return [self.convert(item, ctx) for item in items]
            return self.convert(value, ctx)
        except Exception:
            return self.typer_param()._coerce_value(value, param=param, ctx=ctx)

    def typer_param(self) -> _coercion.RuntimeParam:
        descriptor = _coercion.TypeDescriptor(
            annotation=self.annotation, parameter_info=self.parameter_info, file_annotation=None
        )
        return _typer_build(descriptor)


def build_runtime_param(descriptor: _coercion.TypeDescriptor) -> _coercion.RuntimeParam:
    """A `FastParam` for plain option types, typer's own runtime param for the rest."""
    info = descriptor.parameter_info
    annotation: Any = descriptor.annotation
    if descriptor.file_annotation is None and info.parser is None:
        many = get_origin(annotation) is list
        convert = _leaf(get_args(annotation)[0] if many else annotation, info)
        if convert is not None:
            return FastParam(annotation=annotation, parameter_info=info, convert=convert, many=many)
    return _typer_build(descriptor)


def install() -> None:
    """Make typer build orderctl's runtime params through `build_runtime_param`."""
    if getattr(core, "build_runtime_param", None) is _typer_build:  # the hook is where it was
        core.build_runtime_param = build_runtime_param  # type: ignore[attr-defined]
