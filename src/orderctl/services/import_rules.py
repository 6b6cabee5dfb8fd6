"""Per-order rules of a batch import (DESIGN.md §7) that need the catalog or the database's
answers but no database access: pricing against the catalog, what a line of the file asks for
(to compare with a stored order of its ref), and what to say when the connection is lost."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from orderctl.order_content import OrderContent
from orderctl.pricing import PricedLine, PricingProblem, WantedLine, price_lines
from orderctl.repositories.orders.records import CatalogEntry
from orderctl.services.import_reader import RawOrder

#: A valid order as it crosses from the reading process: (external_ref, customer_email,
#: customer_name, status, currency, (the TEXT_FIELDS), created_at, [(sku, quantity,
#: unit_price), ...]).
#: Plain tuples pickle ~15x faster than the Pydantic models.
Valid = tuple[
    str, str, str | None, str, str | None, tuple[str | None, ...], datetime | None,
    list[WantedLine],
]  # fmt: skip


def wanted_content(wanted: Valid, default_currency: str) -> OrderContent:
    """What an order of the file asks for, to compare with a stored order of its ref."""
    _, email, _, _, currency, texts, _, lines = wanted
    items = {sku: (quantity, price) for sku, quantity, price in lines}
    return OrderContent(email, currency or default_currency, texts, items)


def priced(
    order: RawOrder, lines: list[WantedLine], catalog: dict[str, CatalogEntry], *, is_csv: bool
) -> tuple[list[PricedLine], Decimal] | str:
    """The order's priced lines and total (`pricing.price_lines`, as `orders create`), or why
    the catalog refuses it, located in the file (`line 7: sku: unknown SKU 'X'`)."""
    result = price_lines(lines, catalog)
    if not isinstance(result, PricingProblem):
        return result
    if result.index is None:
        return f"{order.where}: {result.at()}"
    n = result.index
    if is_csv:  # the row of the line, and its column
        line = order.lines[n] if n < len(order.lines) else order.lines[0]
        return f"line {line}: {result.at()}"
    return f"line {order.lines[0]}: {result.at(f'items.{n}')}"


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
