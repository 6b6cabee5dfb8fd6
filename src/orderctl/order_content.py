"""What makes two orders with one external_ref "the same order" (DESIGN.md §5, §7).

A create or an import that repeats a stored ref is a harmless retry when the content agrees,
and a conflict otherwise. `orders create` and `import orders` both decide it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

#: The optional free-text fields of an order, in the order of the §6 document. Each passes
#: unchanged from the input (`OrderCreate`, a CSV column or JSONL key of the same name) to its
#: column and to every JSON document; the storage code (`repositories/orders/`), the import
#: and `orders show` derive their lists from this one (docs/architecture.md, *Adding a field
#: to orders*).
TEXT_FIELDS = ("notes", "shipping_address")


@dataclass(frozen=True, slots=True)
class OrderContent:
    """The parts of an order that a retry must repeat.

    `items` maps SKU → (quantity, unit price); a wanted price of None means "the catalog's",
    which any stored price satisfies (the catalog may have changed since). The status, the
    creation time and the customer's name are not compared: a retry after the order was paid,
    or from a file exported later, is still the same order.
    """

    customer_email: str
    currency: str
    #: The `TEXT_FIELDS`, in order.
    texts: tuple[str | None, ...]
    items: dict[str, tuple[int, Decimal | None]]


def same_content(stored: OrderContent, wanted: OrderContent) -> bool:
    """Whether `wanted` asks for the order that is `stored`."""
    if (stored.customer_email, stored.currency) != (wanted.customer_email, wanted.currency):
        return False
    if tuple(t or None for t in stored.texts) != tuple(t or None for t in wanted.texts):
        return False
    if stored.items.keys() != wanted.items.keys():
        return False
    for sku, (quantity, price) in wanted.items.items():
        stored_quantity, stored_price = stored.items[sku]
        if stored_quantity != quantity or (price is not None and stored_price != price):
            return False
    return True
