"""The filter options of `orders list`, defined once and shared by every command that selects
orders the same way (`orders list`, `orders export`).

`@order_filter_options` adds the options to a command's signature (Typer reads the signature)
and hands the command one checked `OrderFilters` as its `filters` argument. A filter added
here is a filter of every such command, with the same flags, help and errors.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orderctl.enums import OrderStatus

if TYPE_CHECKING:
    from orderctl.order_filters import OrderFilters


def _option(name: str, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=annotation
    )


#: The options, in the order `--help` lists them.
FILTER_PARAMETERS = (
    _option(
        "status",
        Annotated[
            list[OrderStatus] | None,
            typer.Option(
                "--status", help="Only this status; repeat for several.", case_sensitive=False
            ),
        ],
    ),
    _option(
        "customer",
        Annotated[
            str | None, typer.Option("--customer", help="Only this customer's orders (email).")
        ],
    ),
    _option(
        "since",
        Annotated[
            str | None,
            typer.Option("--since", help="Created on or after (ISO date or datetime, UTC)."),
        ],
    ),
    _option(
        "until",
        Annotated[
            str | None,
            typer.Option(
                "--until", help="Created before (a date: up to the end of that day; UTC)."
            ),
        ],
    ),
    _option(
        "min_total", Annotated[str | None, typer.Option("--min-total", help="Total at least X.")]
    ),
    _option(
        "max_total", Annotated[str | None, typer.Option("--max-total", help="Total at most X.")]
    ),
)
_NAMES = tuple(parameter.name for parameter in FILTER_PARAMETERS)


def order_filter_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` the filter options; it receives them as one `filters: OrderFilters`.

    The options go after the command's first parameter (`ctx`); `command` must take a
    keyword `filters` and none of the options' names.
    """
    signature = inspect.signature(command)
    # The command's own annotations are strings (`from __future__ import annotations`); Typer
    # does not evaluate a signature given as `__signature__`, so they are evaluated here, in
    # the command's module (`filters` is left out: its type is only imported for mypy).
    own = [
        p.replace(annotation=_evaluated(p.annotation, command))
        for p in signature.parameters.values()
        if p.name != "filters"
    ]
    assert len(own) == len(signature.parameters) - 1, "the command must take `filters`"
    assert not set(_NAMES) & {p.name for p in own}, "an option name is taken"

    @functools.wraps(command)
    def with_filters(*args: Any, **kwargs: Any) -> None:
        values = {name: kwargs.pop(name, None) for name in _NAMES}
        command(*args, filters=build_filters(**values), **kwargs)

    parameters = [own[0], *FILTER_PARAMETERS, *own[1:]]
    with_filters.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    # Typer also reads `typing.get_type_hints`: the real types, without the `filters` argument.
    with_filters.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return with_filters


def _evaluated(annotation: Any, command: Callable[..., None]) -> Any:
    if not isinstance(annotation, str):
        return annotation
    return eval(annotation, command.__globals__)  # the module's own source text


def build_filters(
    *,
    status: list[OrderStatus] | None,
    customer: str | None,
    since: str | None,
    until: str | None,
    min_total: str | None,
    max_total: str | None,
) -> OrderFilters:
    """The `OrderFilters` of the options' values: exit 2 for a value that cannot be parsed,
    6 for one out of range."""
    from orderctl.order_filters import OrderFilters

    return OrderFilters(
        statuses=tuple(status or ()),
        customer_email=customer,
        since=_parse_when(since, end_of_day=False, flag="--since"),
        until=_parse_when(until, end_of_day=True, flag="--until"),
        min_total=_parse_amount(min_total, "--min-total"),
        max_total=_parse_amount(max_total, "--max-total"),
    )


def _parse_when(value: str | None, *, end_of_day: bool, flag: str) -> datetime | None:
    from orderctl.errors import UsageError
    from orderctl.parsing import parse_when

    if value is None:
        return None
    try:
        return parse_when(value, end_of_day=end_of_day)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _parse_amount(value: str | None, flag: str) -> Decimal | None:
    from orderctl.errors import UsageError, ValidationFailed
    from orderctl.parsing import OutOfRange, parse_amount

    if value is None:
        return None
    try:
        return parse_amount(value)
    except OutOfRange as exc:
        raise ValidationFailed(f"{flag}: {exc}") from None
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None
