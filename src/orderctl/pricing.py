"""The one pricing rule of an order (DESIGN.md §5, §7): `orders create`, the API and the import
price their lines here, so they accept the same orders and refuse the rest in the same words.

A line costs its own `unit_price` when given, else the catalog's; its total is rounded to
cents; an unknown SKU or an inactive product is refused, and so is a line total or an order
total beyond Numeric(12, 2). Each face says where the problem is (`items.0.sku`, `line 7:
sku`); the reason after it is this module's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from orderctl.tables import MONEY_MAX

_CENT = Decimal("0.01")

#: A line asked for: (sku, quantity, unit_price or None for the catalog's).
WantedLine = tuple[str, int, Decimal | None]
#: A priced line: (product id, sku, name, quantity, unit price, line total).
PricedLine = tuple[int, str, str, int, Decimal, Decimal]


class CatalogItem(Protocol):
    """What pricing reads of a product (an ORM `Product` or an import's `CatalogEntry`)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def active(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class PricingProblem:
    """Why the catalog refuses an order: on line `index` (0-based; None: the order as a
    whole), in `field` (`sku`, `total`, or None for the line as a whole), for `reason`."""

    index: int | None
    field: str | None
    reason: str

    def at(self, path: str = "", sep: str = ".") -> str:
        """The message under `path` (`items.0` gives `items.0.sku: unknown SKU 'X'`)."""
        where = sep.join(part for part in (path, self.field) if part)
        return f"{where}: {self.reason}" if where else self.reason


def price_lines(
    lines: Sequence[WantedLine],
    catalog: Mapping[str, CatalogItem],
    known: dict[WantedLine, PricedLine] | None = None,
) -> tuple[list[PricedLine], Decimal] | PricingProblem:
    """The priced lines and the order's total, or the first problem.

    `known`: lines priced before against the same catalog entries, filled as lines are priced
    (a batch import prices the same SKU, quantity and price thousands of times; its catalog
    entries do not change while it runs). The caller bounds its size."""
    priced: list[PricedLine] = []
    total = Decimal("0.00")
    for index, line in enumerate(lines):
        done = known.get(line) if known is not None else None
        if done is None:
            result = _price_line(index, line, catalog)
            if isinstance(result, PricingProblem):
                return result
            done = result
            if known is not None:
                known[line] = done
        total += done[5]
        priced.append(done)
    if total > MONEY_MAX:
        return PricingProblem(
            None, "total", f"{total:.2f} exceeds the maximum {MONEY_MAX} (Numeric(12, 2))"
        )
    return priced, total


def _price_line(
    index: int, line: WantedLine, catalog: Mapping[str, CatalogItem]
) -> PricedLine | PricingProblem:
    sku, quantity, unit_price = line
    product = catalog.get(sku)
    if product is None:
        return PricingProblem(index, "sku", f"unknown SKU {sku!r}")
    if not product.active:
        return PricingProblem(index, "sku", f"product {sku!r} is inactive")
    price = product.unit_price if unit_price is None else unit_price
    line_total = (price * quantity).quantize(_CENT)
    if line_total > MONEY_MAX:
        return PricingProblem(
            index, None, f"line total {line_total:.2f} exceeds the maximum {MONEY_MAX}"
        )
    return (product.id, sku, product.name, quantity, price, line_total)
