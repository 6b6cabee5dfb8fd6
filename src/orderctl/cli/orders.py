"""`orderctl orders`: (to be built)."""

from __future__ import annotations

import typer

app = typer.Typer(help="orders commands.", no_args_is_help=True)


@app.command("list")
def list_orders(ctx: typer.Context) -> None:
    """List orders (placeholder until the orders issue lands)."""
    from orderctl.cli.context import get_state

    get_state(ctx).actor()
