"""The views and inputs of `orderctl orders create` and `show`: the Rich view of one order and
the JSON document of `--from-file`. Apart from cli/orders.py so `orders list` (the hot path)
compiles and imports none of it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from orderctl.cli.options import stdin_bytes
from orderctl.cli.tables import Column
from orderctl.order_content import TEXT_FIELDS

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

#: Display order; `rank`: which stay longest on a narrow terminal (1 first).
HISTORY_COLUMNS = [
    Column("AT", "at", rank=1),
    Column("ACTOR", "actor", rank=5),
    Column("ACTION", "action", rank=2),
    Column("FROM", "from_status", rank=6),
    Column("TO", "to_status", rank=3),
    Column("REASON", "reason", rank=4),
]
LINE_COLUMNS = [
    Column("SKU", "sku", rank=1),
    Column("NAME", "name", rank=5),
    Column("QTY", "quantity", rank=2),
    Column("UNIT PRICE", "unit_price", rank=4),
    Column("LINE TOTAL", "line_total", rank=3),
]


def order_view(doc: dict[str, Any], events: list[dict[str, Any]] | None = None) -> RenderableType:
    """The Rich view of one order: header, customer, lines, total and (for show) history.

    Every stored string goes in through `cell_text` (escaped, and `Text`, so markup in it is
    shown, not interpreted).
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from orderctl.cli.render import cell_text, stdout_width, view_cell

    header = Text.assemble(("Order ", "bold"), (str(doc["id"]), "bold"), "  ")
    header.append(view_cell("status", doc["status"]))
    if doc["external_ref"]:
        header.append("  ref ")
        header.append(cell_text(doc["external_ref"]))
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")  # wrapped at spaces; a long word is folded
    customer = doc["customer"]
    who = cell_text(customer["email"])
    if customer["name"]:
        who = Text.assemble(cell_text(customer["name"]), " <", who, ">")
    facts.add_row("customer", who)
    facts.add_row("created", view_cell("created_at", doc["created_at"]))
    facts.add_row("updated", view_cell("updated_at", doc["updated_at"]))
    for name in TEXT_FIELDS:  # notes, shipping address, …: shown when set
        if doc.get(name):
            facts.add_row(name.replace("_", " "), cell_text(doc[name]))

    # One line per order line and per event, as in `orders history`: cut, never wrapped.
    width = stdout_width()
    parts: list[RenderableType] = [header, facts, Text("")]
    parts += _table(doc["items"], LINE_COLUMNS, width)
    parts.append(Text.assemble(("total ", "bold"), (f"{doc['total']} {doc['currency']}", "bold")))
    if events is not None:
        parts += [Text(""), Text("history", style="bold"), *_table(events, HISTORY_COLUMNS, width)]
    return Group(*parts)


def _table(records: list[dict[str, Any]], columns: list[Column], width: int) -> list[Text]:
    from rich.text import Text

    from orderctl.cli.render import color_enabled
    from orderctl.cli.tables import table_lines

    color = color_enabled(sys.stdout)
    return [
        Text.from_ansi(line) for line in table_lines(records, columns, width=width, color=color)
    ]


def source_name(path: str) -> str:
    """How a FILE argument is named in messages (`-` is stdin)."""
    return "stdin" if path == "-" else path


def read_order_file(path: str) -> Any:
    """The JSON document in FILE or stdin (`parsing.load_json`: at most 1 MiB, strict UTF-8,
    no duplicate keys, no NaN). Unreadable: exit 2; empty, too big or not JSON: exit 6."""
    from orderctl.errors import UsageError, ValidationFailed
    from orderctl.parsing import JSON_MAX_BYTES, InvalidJson, load_json

    where = source_name(path)
    try:
        if path == "-":
            raw = stdin_bytes().read(JSON_MAX_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(JSON_MAX_BYTES + 1)  # never more, whatever the file's size
    except OSError as exc:
        raise UsageError(f"cannot read {where}: {exc.strerror or exc}") from None
    if not raw.strip() or raw.strip() == b"\xef\xbb\xbf":
        raise ValidationFailed(f"{where}: empty input, expected one JSON order document")
    try:
        document = load_json(raw)
    except InvalidJson as exc:
        raise ValidationFailed(f"{where}: {exc}") from None
    if not isinstance(document, dict):
        raise ValidationFailed(f"{where}: expected one JSON object (an order document)")
    return document
