"""`orderctl demo`: fill the database with a realistic, deterministic sample."""

from __future__ import annotations

from typing import Annotated

import typer

from orderctl.cli.context import get_state
from orderctl.cli.options import Output
from orderctl.enums import OutputFormat


def demo(
    ctx: typer.Context,
    orders: Annotated[
        int, typer.Option("--orders", min=0, max=10_000, help="How many sample orders.")
    ] = 300,
    output: Output = OutputFormat.TABLE,
) -> None:
    """Add sample products, customers and orders (all statuses, with history) over recent
    weeks. Admin only. Running it again adds nothing that exists (refs DEMO-0001…).

    Example: orderctl demo && orderctl orders list
    """
    from orderctl.cli.render import message, render_one
    from orderctl.services.demo import load_demo

    state = get_state(ctx)
    actor = state.actor()
    with state.uow() as uow:
        summary = load_demo(uow, actor, orders_count=orders, currency=state.settings().currency)
    message(
        f"demo data: {summary.products_created} products and {summary.orders_created} orders "
        f"added, {summary.orders_skipped} orders already there"
        + (
            f", {summary.orders_out_of_stock} left out (out of stock)"
            if summary.orders_out_of_stock
            else ""
        )
    )
    if output is not OutputFormat.TABLE:
        render_one(summary, output)
