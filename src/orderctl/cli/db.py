"""`orderctl db`: schema migrations (DESIGN.md §10). Works on an empty database."""

from __future__ import annotations

from typing import Annotated

import typer

from orderctl.cli.context import get_state
from orderctl.cli.options import Output
from orderctl.enums import OutputFormat

app = typer.Typer(help="Migrate the database schema.", no_args_is_help=True)


def _describe(before: str | None, after: str | None) -> str:
    if before == after:
        return f"database already at revision {after or 'base (empty)'}"
    return f"migrated {before or 'base'} -> {after or 'base'}"


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the schema (default: to the latest revision).

    Example: orderctl db upgrade
    """
    from orderctl.cli.render import message
    from orderctl.services import schema

    before, after = schema.upgrade(get_state(ctx).database(), revision)
    message(_describe(before, after))


@app.command("downgrade")
def downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision; `base` drops everything.")],
) -> None:
    """Downgrade the schema to REVISION.

    Example: orderctl db downgrade base
    """
    from orderctl.cli.render import message
    from orderctl.services import schema

    before, after = schema.downgrade(get_state(ctx).database(), revision)
    message(_describe(before, after))


@app.command("current")
def current(ctx: typer.Context, output: Output = OutputFormat.TABLE) -> None:
    """Print the database's revision and the one this orderctl needs.

    Example: orderctl db current -o json
    """
    from orderctl.cli.render import render_one
    from orderctl.db import SCHEMA_REVISION
    from orderctl.services import schema

    db = get_state(ctx).database()
    rev = schema.current(db)
    render_one(
        {
            "database": db.display_url,
            "current": rev,
            "head": SCHEMA_REVISION,
            "up_to_date": rev == SCHEMA_REVISION,
        },
        output,
    )


@app.command("history")
def history(output: Output = OutputFormat.TABLE) -> None:
    """List the migrations, newest first.

    Example: orderctl db history
    """
    from orderctl.cli.render import render_list
    from orderctl.services import schema

    render_list(
        schema.history(),
        output,
        [("REVISION", "revision"), ("DOWN", "down_revision"), ("MESSAGE", "message")],
    )
