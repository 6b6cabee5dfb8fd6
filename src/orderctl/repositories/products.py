"""Queries on products."""

from __future__ import annotations

from sqlalchemy import select
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
