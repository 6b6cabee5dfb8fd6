"""`orderctl orders`: create, list, export, show, set-status, history (DESIGN.md §5, §6, §14)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orderctl.cli import completion as complete
from orderctl.cli.context import get_state
from orderctl.cli.fields import printed_format
from orderctl.cli.imports import ImportFormat
from orderctl.cli.options import Jq, NoHeaders, Output, json_option
from orderctl.cli.order_filter_options import order_filter_options
from orderctl.cli.tables import Column
from orderctl.enums import OrderSort, OrderStatus, OutputFormat

if TYPE_CHECKING:
    from orderctl.order_filters import OrderFilters

app = typer.Typer(help="Create, list, show and change orders.", no_args_is_help=True)

#: Display order; `rank`: which stay longest on a narrow terminal (1 first).
LIST_COLUMNS = [
    Column("ID", "id", rank=1),
    Column("REF", "external_ref", rank=6),
    Column("STATUS", "status", rank=2),
    Column("CUSTOMER", "customer.email", rank=3),
    Column("ITEMS", "items_count", rank=7),
    Column("TOTAL", "total", rank=4),
    Column("CUR", "currency", rank=8),
    Column("CREATED", "created_at", rank=5),
]
OrderJson = Annotated[str | None, json_option("orderctl.schemas:OrderRead")]
#: `orders show` prints the order, and its `history` when asked (`--history`, `--json history`).
OrderShowJson = Annotated[str | None, json_option("orderctl.schemas:OrderRead", "history")]
ListingJson = Annotated[str | None, json_option("orderctl.services.order_listing:DOCUMENT_FIELDS")]
EventJson = Annotated[str | None, json_option("orderctl.schemas:EventRead")]
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
        str | None,
        typer.Option(
            "--customer", help="Customer email (created when new).", autocompletion=complete.emails
        ),
    ] = None,
    item: Annotated[
        list[str] | None,
        typer.Option(
            "--item",
            help="A line as SKU:QTY; repeat for more lines.",
            metavar="SKU:QTY",
            autocompletion=complete.item_lines,
        ),
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
    json_fields: OrderJson = None,
    jq: Jq = None,
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
    render_one(order, output, table=order_view, json_fields=json_fields, jq=jq)


@app.command("list")
@order_filter_options
def list_orders(
    ctx: typer.Context,
    filters: OrderFilters,
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
    no_headers: NoHeaders = False,
    json_fields: ListingJson = None,
    jq: Jq = None,
) -> None:
    """List orders, newest first; filters combine.

    Example: orderctl orders list --status paid --status shipped --since 2026-11-01 -o jsonl

    Example: orderctl orders list --search mateo --sku MUG-01 --since 7d
    """
    import json

    from orderctl.cli.render import message, render_json_text, render_list
    from orderctl.errors import UsageError
    from orderctl.services import order_listing

    if all_ and (limit is not None or cursor is not None):
        raise UsageError("--all cannot be combined with --limit or --cursor")
    state = get_state(ctx)
    actor = state.actor()
    shown_as = printed_format(output, json_fields, jq)
    table = shown_as.tabular
    with state.uow(replica=True) as uow:
        if all_:
            # JSON text written by the database in keyset batches (no ORM, no Pydantic per
            # order): flat memory, and json/jsonl pass it through untouched.
            texts = order_listing.iter_order_json(uow, actor, filters, sort=sort)
            if shown_as in (OutputFormat.JSON, OutputFormat.JSONL):
                render_json_text(texts, output, json_fields=json_fields, jq=jq)
                return
            docs = (json.loads(text) for text in texts)
            render_list(
                (_list_row(doc) for doc in docs) if table else docs,
                output,
                LIST_COLUMNS,
                empty="no orders",
                fields=order_listing.DOCUMENT_FIELDS,
                headers=not no_headers,
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
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )
    if page.next_cursor:
        message(f"more orders: --all, or the next page with --cursor {page.next_cursor}")


@app.command("export")
@order_filter_options
def export(
    ctx: typer.Context,
    filters: OrderFilters,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="Where to write (.csv, .jsonl or .ndjson); - (default) for stdout."
        ),
    ] = "-",
    fmt: Annotated[
        ImportFormat | None,
        typer.Option(
            "--format",
            help="csv or jsonl; default: from FILE's extension, jsonl on stdout.",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace FILE if it exists (only once complete).")
    ] = False,
) -> None:
    """Export matching orders in the import format, oldest first (status, times, notes,
    prices included); `orderctl import orders` reads the file back.

    Orders without an external ref get `orderctl-<id>`, so importing twice is harmless.

    Example: orderctl orders export paid.csv --status paid --since 2026-11-01
    """
    from orderctl.cli.output_file import output_file
    from orderctl.cli.render import message
    from orderctl.errors import UsageError
    from orderctl.services import order_export
    from orderctl.services.import_reader import format_for

    given = fmt.value if fmt else None
    try:
        chosen = format_for(file, given) if file != "-" else given or "jsonl"
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow, output_file(file, force=force) as stream:
        count = -1 if chosen == "csv" else 0  # the header is not an order
        for piece in order_export.export_orders(uow, actor, filters, fmt=chosen):
            stream.write(piece)
            count += 1
    where = "stdout" if file == "-" else file
    message(f"exported {count} order{'' if count == 1 else 's'} to {where}")


#: How every command naming one order takes it (DESIGN.md §5); `services.orders` applies the
#: rule (digits only = an id, else an external ref; `--ref` forces a ref).
OrderArg = Annotated[
    str | None,
    typer.Argument(
        metavar="ID_OR_REF",
        help="Digits only: an order id; else an external ref.",
        show_default=False,
        autocompletion=complete.order_refs,
    ),
]
RefOption = Annotated[
    str | None,
    typer.Option(
        "--ref",
        metavar="REF",
        help="Name the order by external ref (also when all digits).",
        autocompletion=complete.order_refs,
    ),
]


def _named(key: str | None, ref: str | None) -> tuple[str, bool]:
    """The order a command names: (text, whether it is forced to be an external ref)."""
    from orderctl.errors import UsageError

    if (key is None) == (ref is None):
        raise UsageError("give either an ID_OR_EXTERNAL_REF or --ref REF")
    return (ref, True) if ref is not None else (key or "", False)


@app.command("show")
def show(
    ctx: typer.Context,
    key: OrderArg = None,
    ref: RefOption = None,
    with_history: Annotated[
        bool,
        typer.Option(
            "--history", help="json/jsonl/csv: add the history events as a `history` array."
        ),
    ] = False,
    output: Output = OutputFormat.TABLE,
    json_fields: OrderShowJson = None,
    jq: Jq = None,
) -> None:
    """Show an order: its customer, lines, total and history (in -o json with --history).

    Example: orderctl orders show 42    (or: orderctl orders show --ref 10042 -o json --history)
    """
    from orderctl.cli.fields import field_list
    from orderctl.cli.order_views import order_view
    from orderctl.cli.render import document, render_one
    from orderctl.services import orders

    name, by_ref = _named(key, ref)
    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        order, events = orders.get_order_with_history(uow, actor, name, by_ref=by_ref)
    docs = [document(event) for event in events]
    if json_fields is not None and "history" in field_list(json_fields):
        with_history = True  # `--json id,history` asks for it as `--history` does
    record = {**document(order), "history": docs} if with_history else order
    render_one(
        record, output, table=lambda doc: order_view(doc, docs), json_fields=json_fields, jq=jq
    )


def _status(ctx: typer.Context, text: str | None) -> OrderStatus:
    """The STATUS argument: one of the statuses, in any case (exit 2 otherwise)."""
    if text is None:
        raise _usage(f"Missing argument 'STATUS'. (see '{ctx.command_path} --help')")
    try:
        return OrderStatus(text.strip().lower())
    except ValueError:
        names = ", ".join(status.value for status in OrderStatus)
        raise typer.BadParameter(
            f"{text[:40]!r} is not one of {names}", ctx=ctx, param_hint="'STATUS'"
        ) from None


@app.command("set-status")
def set_status(
    ctx: typer.Context,
    key: OrderArg = None,
    status: Annotated[
        str | None,
        typer.Argument(
            metavar="STATUS",
            help="The new status (pending, paid, shipped, delivered, cancelled, refunded).",
            show_default=False,
        ),
    ] = None,
    ref: RefOption = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the history).")
    ] = None,
    output: Output = OutputFormat.TABLE,
    json_fields: OrderJson = None,
    jq: Jq = None,
) -> None:
    """Change an order's status along the allowed transitions; cancelling restocks.

    Allowed: pending -> paid|cancelled, paid -> shipped|cancelled|refunded,
    shipped -> delivered|refunded, delivered -> refunded.

    Example: orderctl orders set-status 42 shipped --reason "DHL 00340434"

    Example: orderctl orders set-status WEB-1001 paid    (or: --ref 10042 paid)
    """
    from orderctl.cli.order_views import order_view
    from orderctl.cli.render import message, render_one
    from orderctl.services import orders

    if ref is not None and status is None:
        key, status = None, key  # `set-status --ref REF STATUS`: the one argument is STATUS
    new_status = _status(ctx, status)
    name, by_ref = _named(key, ref)
    state = get_state(ctx)
    actor = state.actor()
    with state.uow() as uow:
        order = orders.set_status(uow, actor, name, new_status, reason, by_ref=by_ref)
    message(f"order {order.id} is now {order.status.value}")
    render_one(order, output, table=order_view, json_fields=json_fields, jq=jq)


@app.command("history")
def history(
    ctx: typer.Context,
    key: OrderArg = None,
    ref: RefOption = None,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: EventJson = None,
    jq: Jq = None,
) -> None:
    """Show an order's audit trail: created, each status change, who, when and why.

    Example: orderctl orders history 42 -o json    (or: orderctl orders history WEB-1001)
    """
    from orderctl.cli.order_views import HISTORY_COLUMNS
    from orderctl.cli.render import render_list
    from orderctl.schemas import EventRead
    from orderctl.services import orders

    name, by_ref = _named(key, ref)
    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        events = orders.order_history(uow, actor, name, by_ref=by_ref)
    render_list(
        events,
        output,
        HISTORY_COLUMNS,
        empty="no events",
        fields=EventRead,
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )
