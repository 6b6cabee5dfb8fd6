"""Queries on products."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from orderctl.errors import NotFound
from orderctl.models import Product


class ProductRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, product: Product) -> Product:
        self.session.add(product)
        self.session.flush()
        return product

    def get_by_sku(self, sku: str) -> Product | None:
        return self.session.scalars(select(Product).where(Product.sku == sku)).one_or_none()

    def get_one_by_sku(self, sku: str) -> Product:
        """Raise `NotFound` when there is no such product."""
        product = self.get_by_sku(sku)
        if product is None:
            raise NotFound(f"product {sku!r} not found")
        return product

    def add_many(self, products: Iterable[Product]) -> None:
        """Add new products and flush (one batch of an import)."""
        self.session.add_all(products)
        self.session.flush()

    def get_many_by_sku(self, skus: Iterable[str]) -> dict[str, Product]:
        """The products with these SKUs (one IN query), keyed by SKU; missing ones are absent."""
        wanted = list(set(skus))
        if not wanted:
            return {}
        rows = self.session.scalars(select(Product).where(Product.sku.in_(wanted)))
        return {product.sku: product for product in rows}

    def list(self, *, active: bool | None = True) -> Sequence[Product]:
        """Products ordered by SKU; `active=None` gives every product, True/False filter."""
        stmt = select(Product).order_by(Product.sku)
        if active is not None:
            stmt = stmt.where(Product.active.is_(active))
        return self.session.scalars(stmt).all()

    # ---- stock: single atomic UPDATEs, so concurrent orders can never oversell ----

    def reserve_stock(self, product_id: int, quantity: int) -> bool:
        """Take `quantity` from a tracked product's stock if enough is left.

        True when reserved or when the product does not track stock; False when too little
        is left (nothing changed). The conditional UPDATE is atomic on both backends.
        """
        stmt = (
            update(Product)
            .where(Product.id == product_id, Product.stock.is_not(None))
            .where(Product.stock >= quantity)
            .values(stock=Product.stock - quantity)
            .execution_options(synchronize_session=False)
        )
        if self.session.execute(stmt).rowcount == 1:  # type: ignore[attr-defined]
            return True
        tracked = self.session.scalar(select(Product.stock).where(Product.id == product_id))
        return tracked is None

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

    def release_stock(self, product_id: int, quantity: int) -> None:
        """Give `quantity` back to a tracked product (a cancelled order); untracked: no-op."""
        stmt = (
            update(Product)
            .where(Product.id == product_id, Product.stock.is_not(None))
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )
        self.session.execute(stmt)
