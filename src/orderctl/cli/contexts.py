"""`orderctl context`: named databases to switch between, like kubectl's (DESIGN.md §17)."""

from __future__ import annotations

from typing import Annotated

import typer

from orderctl.cli import completion as complete
from orderctl.cli.context import get_state
from orderctl.cli.options import Output
from orderctl.enums import OutputFormat

app = typer.Typer(
    help="Name databases (local, staging, production) and switch between them.",
    no_args_is_help=True,
)

Name = Annotated[
    str,
    typer.Argument(
        help="The context's name (letters, digits, - _ .).", autocompletion=complete.contexts
    ),
]
COLUMNS = [
    ("CURRENT", "current"),
    ("NAME", "name"),
    ("DATABASE", "database_url"),
    ("READ REPLICA", "read_database_url"),
    ("CURRENCY", "currency"),
    ("PROTECTED", "protect"),
]


@app.command("add")
def add(
    name: Name,
    database_url: Annotated[
        str,
        typer.Option("--database-url", help="The database (primary) of this context."),
    ],
    read_url: Annotated[
        str | None,
        typer.Option(
            "--read-url", help="A read replica for list/show/history commands.", show_default=False
        ),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option("--currency", help="Currency of new orders here.", show_default=False),
    ] = None,
    protect: Annotated[
        bool,
        typer.Option(
            "--protect", help="Destructive commands ask for the context's name to be typed."
        ),
    ] = False,
) -> None:
    """Add a context: a name for a database, its read replica, currency and protection.

    Example: orderctl context add prod --database-url postgresql://app@db1/shop --protect
    """
    from orderctl.cli.render import message
    from orderctl.contexts import add_context

    path = add_context(
        name, database_url=database_url, read_database_url=read_url, currency=currency,
        protect=protect,
    )  # fmt: skip
    message(f"added context {name} in {path}; switch to it with `orderctl context use {name}`")


@app.command("use")
def use(name: Name) -> None:
    """Make a context the current one: later commands use its database.

    Example: orderctl context use staging
    """
    from orderctl.cli.render import message
    from orderctl.contexts import use_context

    path = use_context(name)
    message(f"switched to context {name} (in {path})")


@app.command("list")
def list_(output: Output = OutputFormat.TABLE) -> None:
    """List the contexts, the current one marked with `*` (URLs' passwords masked).

    Example: orderctl context list -o json
    """
    from orderctl.cli.render import render_list
    from orderctl.contexts import list_contexts

    rows = list_contexts()
    if output is OutputFormat.TABLE:
        rows = [{**row, "current": "*" if row["current"] else ""} for row in rows]
    render_list(rows, output, COLUMNS, empty="no contexts (add one with `orderctl context add`)")


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            help="The context (default: the one in use).",
            show_default=False,
            autocompletion=complete.contexts,
        ),
    ] = None,
    output: Output = OutputFormat.TABLE,
) -> None:
    """Show one context (default: the one in use, --context or ORDERCTL_CONTEXT or the
    current one), its URLs' passwords masked.

    Example: orderctl context show prod -o json
    """
    from orderctl.cli.render import render_one
    from orderctl.contexts import show_context

    render_one(show_context(name or get_state(ctx).context_flag), output)


@app.command("remove")
def remove(name: Name) -> None:
    """Remove a context from config.toml (its database and cached login are left alone).

    Example: orderctl context remove old-staging
    """
    from orderctl.cli.render import message
    from orderctl.contexts import remove_context

    path, was_current = remove_context(name)
    extra = "; no context is current now" if was_current else ""
    message(f"removed context {name} from {path}{extra}")
