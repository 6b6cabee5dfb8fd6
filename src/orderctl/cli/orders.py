"""`orderctl orders`: create, list, show, set-status, history (DESIGN.md §5, §6)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import typer

from orderctl.cli.context import get_state
from orderctl.cli.options import Output, parse_when_option
from orderctl.enums import OrderSort, OrderStatus, OutputFormat

app = typer.Typer(help="Create, list, show and change orders.", no_args_is_help=True)

LIST_COLUMNS = [
    ("ID", "id"),
    ("REF", "external_ref"),
    ("STATUS", "status"),
    ("CUSTOMER", "customer.email"),
    ("ITEMS", "items_count"),
    ("TOTAL", "total"),
    ("CUR", "currency"),
    ("CREATED", "created_at"),
]
_DIGITS = re.compile(r"[0-9]+")
_QTY = re.compile(r"[+-]?[0-9]+")


# ---- option parsing (exit 2 for values that cannot be parsed at all) ----


def _usage(text: str) -> Exception:
    from orderctl.errors import UsageError

    return UsageError(text)


def _parse_item(value: str) -> dict[str, Any]:
    sku, sep, qty = value.rpartition(":")
    if not sep or not sku.strip() or not _QTY.fullmatch(qty.strip()):
        raise _usage(f"--item: expected SKU:QTY with an integer quantity, got {value!r}")
    return {"sku": sku, "quantity": int(qty)}


def _parse_since(value: str | None) -> datetime | None:
    return parse_when_option(value, end_of_day=False, flag="--since")


def _parse_until(value: str | None) -> datetime | None:
    return parse_when_option(value, end_of_day=True, flag="--until")


def _parse_amount(value: str | None, flag: str) -> Decimal | None:
    from orderctl.errors import ValidationFailed
    from orderctl.parsing import OutOfRange, parse_amount

    if value is None:
        return None
    try:
        return parse_amount(value)
    except OutOfRange as exc:
        raise ValidationFailed(f"{flag}: {exc}") from None
    except ValueError as exc:
        raise _usage(f"{flag}: {exc}") from None


# ---- views ----


def _list_row(order: Any) -> dict[str, Any]:
    from orderctl.cli.render import document

    doc = document(order)
    doc["items_count"] = len(doc["items"])
    return doc


# ---- commands ----


@app.command("create")
def create(
    ctx: typer.Context,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Customer email (created when new).")
    ] = None,
    item: Annotated[
        list[str] | None,
        typer.Option("--item", help="A line as SKU:QTY; repeat for more lines.", metavar="SKU:QTY"),
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Free text on the order.")] = None,
    shipping_address: Annotated[
        str | None,
        typer.Option("--shipping-address", help="Where to ship; free text, newlines allowed."),
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="ISO 4217 code; default from the settings.")
    ] = None,
    external_ref: Annotated[
        str | None,
        typer.Option("--external-ref", help="Your unique reference; a retry with it is safe."),
    ] = None,
    from_file: Annotated[
        str | None,
        typer.Option(
            "--from-file",
            help="Read the order from a JSON file (`-` = stdin), the schema of one import line.",
            metavar="FILE",
        ),
    ] = None,
    output: Output = OutputFormat.TABLE,
) -> None:
    """Create an order; stock of tracked products is reserved. Prints the order.

    Example: orderctl orders create --customer ana@example.com --item MUG-01:2 --item TEE-M:1

    Example: orderctl orders create --from-file order.json    (`--from-file -` reads stdin)
    """
    from orderctl.cli.order_views import order_view, read_order_file, source_name
    from orderctl.cli.render import message, render_one
    from orderctl.errors import UsageError
    from orderctl.schemas import OrderCreate, parse
    from orderctl.services import orders

    items = [_parse_item(value) for value in item or []]
    if from_file is not None:
        given = (notes, shipping_address, currency, external_ref)
        if customer or items or any(value is not None for value in given):
            raise UsageError("--from-file cannot be combined with the other order options")
        data = parse(OrderCreate, read_order_file(from_file), where=source_name(from_file))
    else:
        if not customer or not items:
            raise UsageError("give --customer and at least one --item SKU:QTY, or --from-file")
        raw: dict[str, Any] = {"customer_email": customer, "items": items}
        for key, value in (
            ("notes", notes),
            ("shipping_address", shipping_address),
            ("currency", currency),
            ("external_ref", external_ref),
        ):
            if value is not None:
                raw[key] = value
        data = parse(OrderCreate, raw)

    state = get_state(ctx)
    actor = state.actor()
    with state.uow() as uow:
        order, created = orders.create_order(
            uow, actor, data, default_currency=state.settings().currency
        )
    if created:
        message(f"created order {order.id} ({order.total} {order.currency})")
    else:
        message(
            f"order {order.id} with external_ref {order.external_ref!r} exists already with "
            "this content; nothing changed"
        )
    render_one(order, output, table=order_view)


@app.command("list")
def list_orders(
    ctx: typer.Context,
    status: Annotated[
        list[OrderStatus] | None,
        typer.Option(
            "--status", help="Only this status; repeat for several.", case_sensitive=False
        ),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's orders (email).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Created on or after (ISO date or datetime, UTC)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Created before (a date: up to the end of that day; UTC)."),
    ] = None,
    min_total: Annotated[str | None, typer.Option("--min-total", help="Total at least X.")] = None,
    max_total: Annotated[str | None, typer.Option("--max-total", help="Total at most X.")] = None,
    sort: Annotated[
        OrderSort, typer.Option("--sort", help="Sort order; `-` means descending.")
    ] = OrderSort.CREATED_DESC,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most N orders (default 30).")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every match, streamed in batches (no limit).")
    ] = False,
    cursor: Annotated[
        str | None,
        typer.Option("--cursor", help="Continue after a previous page (printed on stderr)."),
    ] = None,
    output: Output = OutputFormat.TABLE,
) -> None:
    """List orders, newest first; filters combine.

    Example: orderctl orders list --status paid --status shipped --since 2026-11-01 -o jsonl
    """
    import json

    from orderctl.cli.render import message, render_json_text, render_list
    from orderctl.errors import UsageError
    from orderctl.order_filters import OrderFilters
    from orderctl.services import order_listing

    since_at, until_at = _parse_since(since), _parse_until(until)
    low, high = _parse_amount(min_total, "--min-total"), _parse_amount(max_total, "--max-total")
    if all_ and (limit is not None or cursor is not None):
        raise UsageError("--all cannot be combined with --limit or --cursor")
    filters = OrderFilters(
        statuses=tuple(status or ()),
        customer_email=customer,
        since=since_at,
        until=until_at,
        min_total=low,
        max_total=high,
    )
    state = get_state(ctx)
    actor = state.actor()
    table = output is OutputFormat.TABLE
    with state.uow(write=False) as uow:
        if all_:
            # JSON text written by the database in keyset batches (no ORM, no Pydantic per
            # order): flat memory, and json/jsonl pass it through untouched.
            texts = order_listing.iter_order_json(uow, actor, filters, sort=sort)
            if output in (OutputFormat.JSON, OutputFormat.JSONL):
                render_json_text(texts, output)
                return
            docs = (json.loads(text) for text in texts)
            render_list(
                (_list_row(doc) for doc in docs) if table else docs,
                output,
                LIST_COLUMNS,
                empty="no orders",
                fields=order_listing.DOCUMENT_FIELDS,
            )
            return
        page = order_listing.list_orders(
            uow,
            actor,
            filters,
            sort=sort,
            limit=order_listing.DEFAULT_LIMIT if limit is None else limit,
            cursor=cursor,
        )
    render_list(
        [_list_row(o) for o in page.items] if table else page.items,
        output,
        LIST_COLUMNS,
        empty="no orders",
        fields=order_listing.DOCUMENT_FIELDS,
    )
    if page.next_cursor:
        message(f"more orders: --all, or the next page with --cursor {page.next_cursor}")


@app.command("show")
def show(
    ctx: typer.Context,
    key: Annotated[
        str | None,
        typer.Argument(
            metavar="ID_OR_EXTERNAL_REF", help="Digits only: an order id; else an external ref."
        ),
    ] = None,
    ref: Annotated[
        str | None, typer.Option("--ref", help="Look up by external ref (also when all digits).")
    ] = None,
    with_history: Annotated[
        bool,
        typer.Option(
            "--history", help="json/jsonl/csv: add the history events as a `history` array."
        ),
    ] = False,
    output: Output = OutputFormat.TABLE,
) -> None:
    """Show an order: its customer, lines, total and history (in -o json with --history).

    Example: orderctl orders show 42    (or: orderctl orders show --ref 10042 -o json --history)
    """
    from orderctl.cli.order_views import order_view
    from orderctl.cli.render import document, render_one
    from orderctl.errors import UsageError
    from orderctl.services import orders

    if (key is None) == (ref is None):
        raise UsageError("give either an ID_OR_EXTERNAL_REF or --ref REF")
    lookup: int | str
    if ref is not None:
        lookup = ref
    else:
        assert key is not None
        lookup = int(key) if _DIGITS.fullmatch(key) else key
    state = get_state(ctx)
    actor = state.actor()
    with state.uow(write=False) as uow:
        order, events = orders.get_order_with_history(uow, actor, lookup)
    docs = [document(event) for event in events]
    record = {**document(order), "history": docs} if with_history else order
    render_one(record, output, table=lambda doc: order_view(doc, docs))


@app.command("set-status")
def set_status(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(metavar="ID", help="The order id.")],
    status: Annotated[
        OrderStatus, typer.Argument(metavar="STATUS", help="The new status.", case_sensitive=False)
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the history).")
    ] = None,
    output: Output = OutputFormat.TABLE,
) -> None:
    """Change an order's status along the allowed transitions; cancelling restocks.

    Allowed: pending -> paid|cancelled, paid -> shipped|cancelled|refunded,
    shipped -> delivered|refunded, delivered -> refunded.

    Example: orderctl orders set-status 42 shipped --reason "DHL 00340434"
    """
    from orderctl.cli.order_views import order_view
    from orderctl.cli.render import message, render_one
    from orderctl.services import orders

    state = get_state(ctx)
    actor = state.actor()
    with state.uow() as uow:
        order = orders.set_status(uow, actor, order_id, status, reason)
    message(f"order {order.id} is now {order.status.value}")
    render_one(order, output, table=order_view)


@app.command("history")
def history(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(metavar="ID", help="The order id.")],
    output: Output = OutputFormat.TABLE,
) -> None:
    """Show an order's audit trail: created, each status change, who, when and why.

    Example: orderctl orders history 42 -o json
    """
    from orderctl.cli.order_views import HISTORY_COLUMNS
    from orderctl.cli.render import render_list
    from orderctl.schemas import EventRead
    from orderctl.services import orders

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(write=False) as uow:
        events = orders.order_history(uow, actor, order_id)
    render_list(events, output, HISTORY_COLUMNS, empty="no events", fields=EventRead)
