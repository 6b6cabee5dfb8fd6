"""The plain records that cross the orders repository's line in a batch import: a catalog
entry, a stored order found under a ref, and a new order ready to be written. Plain
dataclasses, so the import's hot loop builds them cheaply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from orderctl.order_content import OrderContent


@dataclass(slots=True, frozen=True)
class CatalogEntry:
    id: int
    name: str
    unit_price: Decimal
    active: bool


@dataclass(slots=True, frozen=True)
class StoredRef:
    """An order already stored under a ref: whether this import run wrote it, and its content."""

    mine: bool
    content: OrderContent


@dataclass(slots=True)
class NewOrder:
    """One validated order ready to be written (ids, and new customers, come from the writer).

    `customer_name` is used only when the customer does not exist yet.
    """

    external_ref: str
    customer_email: str
    customer_name: str | None
    status: str
    currency: str
    total: Decimal
    #: `order_content.TEXT_FIELDS`, in order.
    texts: tuple[str | None, ...]
    created_at: datetime
    updated_at: datetime
    #: (product_id, sku, name, quantity, unit_price, line_total)
    items: list[tuple[int, str, str, int, Decimal, Decimal]]
    customer_id: int = 0
