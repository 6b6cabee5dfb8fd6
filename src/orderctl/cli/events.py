"""`orderctl events tail [--follow]`: order events, oldest first, and new ones as they are
committed (DESIGN.md §16, docs/events.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from orderctl.cli.context import get_state
from orderctl.cli.options import Jq, NoHeaders, Output, json_option
from orderctl.cli.tables import Column
from orderctl.enums import EventAction, OutputFormat

app = typer.Typer(
    help="Follow what happens to orders: created, imported, status changes.",
    no_args_is_help=True,
)

#: The event's own columns; `orders history`'s follow them (`_columns`).
_ID_COLUMNS = [Column("ID", "id", rank=7), Column("ORDER", "order_id", rank=8),
               Column("REF", "external_ref", rank=1)]  # fmt: skip
EventJson = Annotated[str | None, json_option("orderctl.schemas:OrderEventRead")]
#: `--follow -o table`: one line per event under one header, these widths (the last is free).
_WIDTHS = (8, 8, 16, 20, 16, 19, 10, 10, 0)


@app.command("tail")
def tail(
    ctx: typer.Context,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", "-f", help="Keep printing new events as they are committed (Ctrl-C ends)."
        ),
    ] = False,
    after: Annotated[
        int | None,
        typer.Option(
            "--after", min=0, metavar="ID", help="Start after this event id (default: the last N)."
        ),
    ] = None,
    order: Annotated[
        str | None,
        typer.Option(
            "--order", metavar="ID_OR_REF", help="Only this order's events (id or external ref)."
        ),
    ] = None,
    action: Annotated[
        list[EventAction] | None,
        typer.Option(
            "--action", help="Only this action; repeat for several.", case_sensitive=False
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            metavar="N",
            help="Without --after: the last N events first (default 20). With --after: at most N.",
        ),
    ] = None,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: EventJson = None,
    jq: Jq = None,
) -> None:
    """Print order events oldest first: created, imported, each status change, with actor and
    reason. With --follow, new events are printed as they are committed, each exactly once.

    Example: orderctl events tail --follow --action status_changed -o jsonl
    """
    from orderctl.cli.fields import printed_format
    from orderctl.errors import UsageError
    from orderctl.services.events import EventFilters, follow_events

    if follow and (json_fields is not None or jq is not None):
        output = OutputFormat.JSONL  # a stream: --json/--jq apply to each line
    elif follow and output is OutputFormat.JSON:
        raise UsageError("--follow prints a stream: use -o jsonl, csv or table, not json")
    shown = printed_format(output, json_fields, jq)
    # The id-or-ref rule is the service's (`services.orders`): the text goes through as typed.
    filters = EventFilters(order=order, actions=tuple(action or ()))
    state = get_state(ctx)
    try:
        actor = state.actor()
        with state.uow(write=False) as uow:
            batches = follow_events(
                uow, actor, filters, after=after, limit=limit, wait=None if follow else 0.0
            )
            if follow:
                _print_stream(
                    batches, shown, headers=not no_headers, json_fields=json_fields, jq=jq
                )
            else:
                events = (event for batch in batches for event in batch.items)
                _print_list(events, output, headers=not no_headers, json_fields=json_fields, jq=jq)
    except KeyboardInterrupt:
        if not follow:
            raise
        raise typer.Exit(0) from None  # Ctrl-C is how a follower is meant to end


def _columns() -> list[Column]:
    from orderctl.cli.order_views import HISTORY_COLUMNS

    return [*_ID_COLUMNS, *HISTORY_COLUMNS]


def _print_list(events: Any, output: OutputFormat, **options: Any) -> None:
    from orderctl.cli.render import render_list
    from orderctl.schemas import OrderEventRead

    render_list(events, output, _columns(), empty="no events", fields=OrderEventRead, **options)


def _print_stream(
    batches: Any,
    output: OutputFormat,
    *,
    headers: bool,
    json_fields: str | None,
    jq: str | None,
) -> None:
    """Each event as soon as it comes, flushed; ends quietly when stdout's reader is gone."""
    from orderctl.cli.render import document, printable, render_json_text, write_text

    columns = _columns()
    started = False
    for batch in batches:
        if not batch.items and _reader_gone():
            raise BrokenPipeError  # `| head -1` while no event comes: end as a closed pipe does
        for event in batch.items:
            doc = document(event)
            if output is OutputFormat.JSONL:
                render_json_text([_json(doc)], OutputFormat.JSONL, json_fields=json_fields, jq=jq)
                continue
            if not started and headers:
                write_text(_header(output, columns))
            started = True
            if output is OutputFormat.CSV:
                write_text(_csv_line([_text(value) for value in doc.values()]))
            else:
                write_text(_aligned([printable(_text(doc[c.key])) for c in columns]))


def _header(output: OutputFormat, columns: list[Column]) -> str:
    from orderctl.schemas import OrderEventRead

    if output is OutputFormat.CSV:
        return _csv_line(list(OrderEventRead.model_fields))
    return _aligned([column.header for column in columns])


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _aligned(cells: list[str]) -> str:
    return (
        "  ".join(cell.ljust(width) for cell, width in zip(cells, _WIDTHS, strict=True)).rstrip()
        + "\n"
    )


def _csv_line(cells: list[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def _json(doc: dict[str, Any]) -> str:
    import json

    return json.dumps(doc, ensure_ascii=False)


def _reader_gone() -> bool:
    """Whether stdout is a pipe whose reading end was closed (poll reports POLLERR on it)."""
    import select
    import sys

    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (tests' capture): nothing to watch
        return False
    poller = select.poll()
    poller.register(fd, 0)  # POLLERR and POLLHUP are reported whatever is asked for
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
