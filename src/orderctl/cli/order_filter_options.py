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
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orderctl.cli import completion as complete
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
        "statuses",
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
            str | None,
            typer.Option(
                "--customer",
                help="Only this customer's orders (email).",
                autocompletion=complete.emails,
            ),
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
    _option(
        "search",
        Annotated[
            str | None,
            typer.Option(
                "--search",
                metavar="TEXT",
                help="Customer email or name, or external ref, contains TEXT (any case; 3+ chars).",
            ),
        ],
    ),
    _option(
        "sku",
        Annotated[
            str | None,
            typer.Option(
                "--sku",
                metavar="SKU",
                help="Only orders with a line of SKU.",
                autocompletion=complete.skus,
            ),
        ],
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


def build_filters(**values: Any) -> OrderFilters:
    """The `OrderFilters` of the options' values: exit 2 for a value that cannot be parsed,
    6 for one out of range."""
    from orderctl.errors import UsageError
    from orderctl.order_filters import parse_filters

    return parse_filters(
        **values, label=lambda field: "--" + field.replace("_", "-"), unparsable=UsageError
    )
