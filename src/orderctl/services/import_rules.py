"""Per-order rules of a batch import (DESIGN.md §7) that need the catalog or the database's
answers but no database access: pricing against the catalog, what a line of the file asks for
(to compare with a stored order of its ref), and what to say when the connection is lost."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from orderctl.order_content import OrderContent
from orderctl.repositories.order_batches import CatalogEntry
from orderctl.services.import_reader import RawOrder
from orderctl.tables import MONEY_MAX

_CENT = Decimal("0.01")

#: A valid order as it crosses from the reading process: (external_ref, customer_email,
#: customer_name, status, currency, notes, created_at, [(sku, quantity, unit_price), ...]).
#: Plain tuples pickle ~15x faster than the Pydantic models.
Valid = tuple[
    str, str, str | None, str, str | None, str | None, datetime | None,
    list[tuple[str, int, Decimal | None]],
]  # fmt: skip


def wanted_content(wanted: Valid, default_currency: str) -> OrderContent:
    """What an order of the file asks for, to compare with a stored order of its ref."""
    _, email, _, _, currency, notes, _, lines = wanted
    items = {sku: (quantity, price) for sku, quantity, price in lines}
    return OrderContent(email, currency or default_currency, notes, items)


def priced(
    order: RawOrder,
    lines: list[tuple[str, int, Decimal | None]],
    catalog: dict[str, CatalogEntry],
    *,
    is_csv: bool,
) -> tuple[list[tuple[int, str, str, int, Decimal, Decimal]], Decimal] | str:
    """The order's lines (product id, sku, name, quantity, price, line total) and total, or
    why the catalog refuses it (an unknown or inactive SKU, a total beyond Numeric(12, 2))."""
    items = []
    total = Decimal(0)
    for n, (sku, quantity, unit_price) in enumerate(lines):
        entry = catalog.get(sku)
        if entry is None or not entry.active:
            line = order.lines[n] if is_csv and n < len(order.lines) else order.lines[0]
            field = "sku" if is_csv else f"items.{n}.sku"
            what = f"unknown SKU {sku!r}" if entry is None else f"product {sku!r} is inactive"
            return f"line {line}: {field}: {what}"
        price = entry.unit_price if unit_price is None else unit_price
        line_total = (price * quantity).quantize(_CENT)
        total += line_total
        items.append((entry.id, sku, entry.name, quantity, price, line_total))
    if total > MONEY_MAX:
        return f"{order.where}: total: {total} is more than {MONEY_MAX}"
    return items, total


def lost_connection_message(committed: dict[str, int], *, resumable: bool) -> str:
    """The message for a connection that broke mid-import: what is in, and how to finish."""
    if not resumable or not committed["batches"]:
        return (
            "lost the connection to the database before anything was committed: nothing was "
            "imported; run the same import again"
        )
    return (
        f"lost the connection to the database after {committed['orders']:,} orders were "
        f"committed ({committed['batches']:,} batch{'es' if committed['batches'] > 1 else ''}); "
        "run the same import again to finish it: committed orders are skipped"
    )
