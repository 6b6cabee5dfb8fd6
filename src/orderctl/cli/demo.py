"""`orderctl demo`: fill the database with a realistic, deterministic sample."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from orderctl.cli.context import get_state
from orderctl.cli.fields import printed_format
from orderctl.cli.options import Jq, Output, json_option
from orderctl.enums import OutputFormat

DemoJson = Annotated[str | None, json_option("orderctl.services.demo:DemoSummary")]


def demo(
    ctx: typer.Context,
    orders: Annotated[
        int, typer.Option("--orders", min=0, max=10_000, help="How many sample orders.")
    ] = 300,
    output: Output = OutputFormat.TABLE,
    json_fields: DemoJson = None,
    jq: Jq = None,
) -> None:
    """Add sample products, customers and orders (all statuses, with history) over recent
    weeks. Admin only. Running it again adds nothing that exists (refs DEMO-0001…).

    Example: orderctl demo && orderctl orders list
    """
    from orderctl.cli.render import message, render_one
    from orderctl.services.demo import load_demo

    state = get_state(ctx)
    actor = state.actor()
    currency = state.settings().currency
    with state.uow() as uow, _DemoProgress(enabled=sys.stderr.isatty()) as progress:
        summary = load_demo(
            uow, actor, orders_count=orders, currency=currency, progress=progress.update
        )
    message(
        f"demo data: {summary.products_created} products and {summary.orders_created} orders "
        f"added, {summary.orders_skipped} orders already there"
        + (
            f", {summary.orders_out_of_stock} left out (out of stock)"
            if summary.orders_out_of_stock
            else ""
        )
    )
    if not printed_format(output, json_fields, jq).tabular:
        render_one(summary, output, json_fields=json_fields, jq=jq)


class _DemoProgress:
    """A bar per kind of record on stderr while the demo runs (on a terminal only: in a pipe
    or a log the final summary line is all that is printed)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> _DemoProgress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            from orderctl.cli.render import stderr_console

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=stderr_console(),
                transient=True,
            )
            self._progress.start()
        return self

    def update(self, what: str, done: int, total: int) -> None:
        """Show `done` of `total` records of kind `what` created or found."""
        if self._progress is None:
            return
        if what not in self._tasks:
            self._tasks[what] = self._progress.add_task(f"creating {what}", total=total)
        self._progress.update(self._tasks[what], completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
