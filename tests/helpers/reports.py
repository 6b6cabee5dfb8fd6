"""Orders for the report tests: any customer, currency, status, time and lines, written
directly through the ORM (as an import leaves them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from orderctl.db import Database
from orderctl.models import Customer, Order, OrderItem, Product
from orderctl.services.uow import UnitOfWork


@dataclass(frozen=True)
class Sold:
    """One order to write: lines are (sku, quantity, unit price)."""

    email: str
    status: str
    currency: str
    created: datetime
    lines: Sequence[tuple[str, int, str]] = field(default_factory=tuple)


def add_sales(database: Database, orders: Sequence[Sold]) -> list[int]:
    """Write `orders` (customers and products made on first use, named after their email and
    SKU); returns their ids in order."""
    ids = []
    with UnitOfWork(database) as u:
        customers = {c.email: c for c in u.session.scalars(select(Customer))}
        products = {p.sku: p for p in u.session.scalars(select(Product))}
        for sold in orders:
            customer = customers.get(sold.email)
            if customer is None:
                customer = Customer(email=sold.email, name=sold.email.split("@")[0].title())
                u.session.add(customer)
                customers[sold.email] = customer
            items = []
            for sku, quantity, price in sold.lines:
                product = products.get(sku)
                if product is None:
                    product = Product(sku=sku, name=f"Product {sku}", unit_price=Decimal(price))
                    u.session.add(product)
                    u.session.flush()
                    products[sku] = product
                unit = Decimal(price)
                items.append(
                    OrderItem(
                        product_id=product.id,
                        sku=sku,
                        name=product.name,
                        quantity=quantity,
                        unit_price=unit,
                        line_total=unit * quantity,
                        reserved=0,
                    )
                )
            order = Order(
                customer=customer,
                status=sold.status,
                currency=sold.currency,
                total=sum((i.line_total for i in items), Decimal("0.00")),
                created_at=sold.created,
                updated_at=sold.created,
                items=items,
            )
            u.session.add(order)
            u.session.flush()
            ids.append(order.id)
        u.commit()
    return ids
