"""Queries on products, and the atomic stock UPDATEs (their ledger rows: `repositories.stock`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, Select, String, any_, bindparam, select, update

from orderctl import tables
from orderctl.enums import StockReason
from orderctl.errors import NotFound
from orderctl.models import Product
from orderctl.repositories.stock import StockRepository, movement
from orderctl.repositories.transaction import OnTransaction

#: The catalog's columns that an order reads (Core: `ProductRepository.catalog`).
_p = tables.products
_CATALOG = select(_p.c.id, _p.c.sku, _p.c.name, _p.c.unit_price, _p.c.stock, _p.c.active)
#: By dialect: SQLite expands `IN (…)`; PostgreSQL takes the SKUs as one array parameter, so
#: the statement is not rendered again for each number of SKUs.
_CATALOG_BY_DIALECT = {
    "sqlite": _CATALOG.where(_p.c.sku.in_(bindparam("skus", expanding=True))),
    "postgresql": _CATALOG.where(_p.c.sku == any_(bindparam("skus", type_=ARRAY(String)))),
}
#: Take `n` from a tracked product's stock if enough is left: atomic on both backends, and
#: the CHECK (stock >= 0) never has to refuse it. `RETURNING` tells taken from not taken.
_RESERVE = (
    update(_p)
    .where(_p.c.id == bindparam("pid"), _p.c.stock.is_not(None), _p.c.stock >= bindparam("n"))
    .values(stock=_p.c.stock - bindparam("n"))
    .returning(_p.c.id)
)
_STOCK = select(_p.c.stock).where(_p.c.id == bindparam("pid"))


class CatalogProduct(NamedTuple):
    """A product as a new order reads it (pricing's `CatalogItem`, and its stock)."""

    id: int
    sku: str
    name: str
    unit_price: Decimal
    #: None: stock is not tracked.
    stock: int | None
    active: bool


#: The actor of an opening movement when the product names no `updated_by` (test set-ups).
UNNAMED_ACTOR = "system"


class ProductRepository(OnTransaction):
    def add(self, product: Product, *, note: str | None = None) -> Product:
        """Insert a product; a tracked one gets its opening `set` movement (DESIGN.md §13)."""
        self.add_many([product], note=note)
        return product

    def add_many(self, products: Iterable[Product], *, note: str | None = None) -> None:
        """Add new products and flush (one batch of an import), with one executemany for the
        opening `set` movements of those that track stock (actor: their `updated_by`)."""
        new = list(products)
        self.session.add_all(new)
        self.session.flush()
        StockRepository(self.tx).add_movements(
            [
                movement(p.id, p.stock, StockReason.SET, p.updated_by or UNNAMED_ACTOR, note=note)
                for p in new
                if p.stock
            ]
        )

    def _by_sku(self, stmt: Select[Any], *, for_update: bool) -> Select[Any]:
        # PostgreSQL: lock the rows so the stock read is the one a `set` replaces (a concurrent
        # reservation waits); SQLite: the write transaction already excludes other writers.
        if for_update:
            return stmt.with_for_update().execution_options(populate_existing=True)
        return stmt

    def get_by_sku(self, sku: str, *, for_update: bool = False) -> Product | None:
        stmt = self._by_sku(select(Product).where(Product.sku == sku), for_update=for_update)
        return self.session.scalars(stmt).one_or_none()

    def get_one_by_sku(self, sku: str, *, for_update: bool = False) -> Product:
        """Raise `NotFound` when there is no such product; `for_update` locks its row."""
        product = self.get_by_sku(sku, for_update=for_update)
        if product is None:
            raise NotFound(f"product {sku!r} not found")
        return product

    def get_many_by_sku(
        self, skus: Iterable[str], *, for_update: bool = False
    ) -> dict[str, Product]:
        """The products with these SKUs (one IN query), keyed by SKU; missing ones are absent.
        `for_update` locks them, in ascending id order (no deadlock with order creation)."""
        wanted = list(set(skus))
        if not wanted:
            return {}
        stmt = select(Product).where(Product.sku.in_(wanted)).order_by(Product.id)
        rows = self.session.scalars(self._by_sku(stmt, for_update=for_update))
        return {product.sku: product for product in rows}

    def catalog(self, skus: Iterable[str]) -> dict[str, CatalogProduct]:
        """The products with these SKUs (one Core query, no ORM object), keyed by SKU;
        missing ones are absent."""
        wanted = list(set(skus))
        if not wanted:
            return {}
        connection = self.tx.connection()
        stmt = _CATALOG_BY_DIALECT[connection.dialect.name]
        rows = connection.execute(stmt, {"skus": wanted})
        return {row.sku: CatalogProduct(*row) for row in rows}

    def list(self, *, active: bool | None = True) -> Sequence[Product]:
        """Products ordered by SKU; `active=None` gives every product, True/False filter."""
        stmt = select(Product).order_by(Product.sku)
        if active is not None:
            stmt = stmt.where(Product.active.is_(active))
        return self.session.scalars(stmt).all()

    # ---- stock: single atomic UPDATEs, so concurrent orders can never oversell ----

    def reserve_stock(self, product_id: int, quantity: int) -> int | None:
        """Take `quantity` from a tracked product's stock if enough is left.

        Returns the units taken: `quantity`, or 0 when the product does not track stock; None
        when too little is left (nothing changed). The conditional UPDATE is atomic on both
        backends.
        """
        connection = self.tx.connection()
        taken = connection.execute(_RESERVE, {"pid": product_id, "n": quantity}).first()
        if taken is not None:
            return quantity
        return 0 if self.stock_left(product_id) is None else None

    def stock_left(self, product_id: int) -> int | None:
        """A product's stock now (None: it does not track stock)."""
        stock: int | None = self.tx.connection().execute(_STOCK, {"pid": product_id}).scalar()
        return stock

    def adjust_stock(self, product_id: int, delta: int, maximum: int) -> bool:
        """Add `delta` (negative takes away) to a tracked product's stock in one conditional
        UPDATE, atomic on both backends. False when the product does not track stock or the
        result would leave 0..`maximum` (nothing changed)."""
        new_stock = Product.stock + delta
        stmt = (
            update(Product)
            .where(Product.id == product_id, Product.stock.is_not(None))
            .where(new_stock >= 0, new_stock <= maximum)
            .values(stock=new_stock)
            .execution_options(synchronize_session=False)
        )
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def refresh_stock(self, product: Product) -> None:
        """Read a loaded product's stock again (after a conditional UPDATE changed it)."""
        self.session.refresh(product, ["stock"])

    def release_stock(self, product_id: int, quantity: int) -> bool:
        """Give `quantity` back to a tracked product (a cancelled order). False when it no
        longer tracks stock (nothing changed)."""
        stmt = (
            update(Product)
            .where(Product.id == product_id, Product.stock.is_not(None))
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]
