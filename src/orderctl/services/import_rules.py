"""Per-order rules of a batch import (DESIGN.md §7) that need the catalog or the database's
answers but no database access: pricing against the catalog, what a line of the file asks for
(to compare with a stored order of its ref), and what to say when the connection is lost."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(slots=True)
class CheckedBatch:
    """A batch of checked orders as it crosses from the reading process: the valid orders as
    columns (a list per field, the lines of all orders in flat lists) rather than an object per
    order, as plain lists of strings and numbers pickle several times faster, and the orders
    refused there, with their reasons, in file order."""

    #: The file lines the batch covers (valid, refused and skipped alike), for progress.
    lines: int = 0
    rejected: list[tuple[RawOrder, str]] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    currencies: list[str | None] = field(default_factory=list)
    texts: list[tuple[str | None, ...]] = field(default_factory=list)
    created: list[datetime | None] = field(default_factory=list)
    #: The file line of each order's rows, all orders in a row, and how many each order has.
    line_numbers: list[int] = field(default_factory=list)
    line_counts: list[int] = field(default_factory=list)
    #: Each order's original rows or text, when a rejects file may need them.
    raws: list[list[list[str]] | str] | None = None
    #: The lines of all orders in a row, and how many each order has.
    skus: list[str] = field(default_factory=list)
    quantities: list[int] = field(default_factory=list)
    prices: list[Decimal | None] = field(default_factory=list)
    item_counts: list[int] = field(default_factory=list)

    def add(self, order: RawOrder, valid: Valid, *, keep_rows: bool) -> None:
        """Add a valid order (in the reading process)."""
        ref, email, name, status, currency, texts, created, lines = valid
        self.refs.append(ref)
        self.emails.append(email)
        self.names.append(name)
        self.statuses.append(status)
        self.currencies.append(currency)
        self.texts.append(texts)
        self.created.append(created)
        self.line_numbers += order.lines
        self.line_counts.append(len(order.lines))
        if keep_rows:
            if self.raws is None:
                self.raws = []
            self.raws.append(order.raw)
        for sku, quantity, price in lines:
            self.skus.append(sku)
            self.quantities.append(quantity)
            self.prices.append(price)
        self.item_counts.append(len(lines))

    def valid(self) -> list[tuple[RawOrder, Valid]]:
        """The valid orders again as (order, `Valid`) pairs (in the importing process); an
        order's `raw` is empty unless the batch kept it."""
        items = list(zip(self.skus, self.quantities, self.prices, strict=True))
        numbers, raws = self.line_numbers, self.raws
        out: list[tuple[RawOrder, Valid]] = []
        row = item = 0
        for n, (ref, lines, count) in enumerate(
            zip(self.refs, self.line_counts, self.item_counts, strict=True)
        ):
            raw: list[list[str]] | str = raws[n] if raws is not None else []
            order = RawOrder(lines=numbers[row : row + lines], data=None, raw=raw, ref=ref)
            valid: Valid = (
                ref, self.emails[n], self.names[n], self.statuses[n], self.currencies[n],
                self.texts[n], self.created[n], items[item : item + count],
            )  # fmt: skip
            out.append((order, valid))
            row += lines
            item += count
        return out


def wanted_content(wanted: Valid, default_currency: str) -> OrderContent:
    """What an order of the file asks for, to compare with a stored order of its ref."""
    _, email, _, _, currency, texts, _, lines = wanted
    items = {sku: (quantity, price) for sku, quantity, price in lines}
    return OrderContent(email, currency or default_currency, texts, items)


def priced(
    order: RawOrder,
    lines: list[WantedLine],
    catalog: dict[str, CatalogEntry],
    *,
    is_csv: bool,
    known: dict[WantedLine, PricedLine] | None = None,
) -> tuple[list[PricedLine], Decimal] | str:
    """The order's priced lines and total (`pricing.price_lines`, as `orders create`, with the
    lines priced `known`), or why the catalog refuses it, located in the file (`line 7: sku:
    unknown SKU 'X'`)."""
    result = price_lines(lines, catalog, known)
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
