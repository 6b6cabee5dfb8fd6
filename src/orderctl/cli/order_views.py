"""The views and inputs of `orderctl orders create` and `show`: the Rich view of one order and
the JSON document of `--from-file`. Apart from cli/orders.py so `orders list` (the hot path)
compiles and imports none of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orderctl.cli.options import stdin_bytes
from orderctl.order_content import TEXT_FIELDS

if TYPE_CHECKING:
    from rich.console import RenderableType

HISTORY_COLUMNS = [
    ("AT", "at"),
    ("ACTOR", "actor"),
    ("ACTION", "action"),
    ("FROM", "from_status"),
    ("TO", "to_status"),
    ("REASON", "reason"),
]
_LINE_KEYS = ("sku", "name", "quantity", "unit_price", "line_total")


def order_view(doc: dict[str, Any], events: list[dict[str, Any]] | None = None) -> RenderableType:
    """The Rich view of one order: header, customer, lines, total and (for show) history.

    Every stored string goes in through `cell_text` (escaped, and `Text`, so markup in it is
    shown, not interpreted).
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from orderctl.cli.render import cell_text

    header = Text.assemble(
        ("Order ", "bold"),
        (str(doc["id"]), "bold"),
        "  ",
        (doc["status"], "bold cyan"),
    )
    if doc["external_ref"]:
        header.append("  ref ")
        header.append(cell_text(doc["external_ref"]))
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    customer = doc["customer"]
    who = cell_text(customer["email"])
    if customer["name"]:
        who = Text.assemble(cell_text(customer["name"]), " <", who, ">")
    facts.add_row("customer", who)
    facts.add_row("created", cell_text(doc["created_at"]))
    facts.add_row("updated", cell_text(doc["updated_at"]))
    for name in TEXT_FIELDS:  # notes, shipping address, …: shown when set
        if doc.get(name):
            facts.add_row(name.replace("_", " "), cell_text(doc[name]))

    lines = Table(show_edge=False, header_style="bold")
    for title, justify in (
        ("SKU", "left"),
        ("NAME", "left"),
        ("QTY", "right"),
        ("UNIT PRICE", "right"),
        ("LINE TOTAL", "right"),
    ):
        lines.add_column(title, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for item in doc["items"]:
        lines.add_row(*(cell_text(item[key]) for key in _LINE_KEYS))
    total = Text.assemble(("total ", "bold"), (f"{doc['total']} {doc['currency']}", "bold"))
    parts: list[RenderableType] = [header, facts, Text(""), lines, total]
    if events is not None:
        history = Table(title="history", show_edge=False, header_style="bold")
        for title, _ in HISTORY_COLUMNS:
            history.add_column(title, overflow="fold")
        for event in events:
            history.add_row(*(cell_text(event[key]) for _, key in HISTORY_COLUMNS))
        parts += [Text(""), history]
    return Group(*parts)


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
