"""Test data written directly through the repositories and the ORM, and the files the import
reads."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from orderctl import clock
from orderctl.db import Database
from orderctl.enums import OrderStatus
from orderctl.models import Customer, Order, OrderEvent, OrderItem, Product
from orderctl.services.uow import UnitOfWork

#: The header of an `import orders` CSV file, and one valid line of it.
ORDER_CSV_HEADER = (
    "external_ref,customer_email,customer_name,status,currency,created_at,notes,sku,quantity,"
    "unit_price\n"
)
ORDER_CSV_ROW = "W-1,a@b.co,Ann,paid,EUR,2026-11-02T09:15:00Z,,MUG-01,2,12.50\n"

#: What `seed_orders` spreads its orders over.
SEED_START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SEED_STATUSES = list(OrderStatus)
SEED_EMAILS = ["ana@example.com", "li.wei@example.com", "kofi@example.com"]


def seed_products(database: Database, samples: Path, *, inactive: str | None = None) -> None:
    """The products of tests/samples/products.csv, created through the repository."""
    with UnitOfWork(database) as u, (samples / "products.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            u.products.add(
                Product(
                    sku=row["sku"],
                    name=row["name"],
                    unit_price=Decimal(row["unit_price"]),
                    stock=int(row["stock"]) if row["stock"] else None,
                    active=row["sku"] != inactive,
                )
            )
        u.commit()


def order_counts(database: Database) -> tuple[int, int, int, int]:
    """How many orders, order lines, order events and customers are stored."""
    with UnitOfWork(database, write=False) as u:
        s = u.session
        return (
            s.scalar(select(func.count()).select_from(Order)) or 0,
            s.scalar(select(func.count()).select_from(OrderItem)) or 0,
            s.scalar(select(func.count()).select_from(OrderEvent)) or 0,
            s.scalar(select(func.count()).select_from(Customer)) or 0,
        )


def write_file(tmp_path: Path, name: str, content: str | bytes) -> str:
    """`content` written to `tmp_path/name` byte for byte (no newline translation)."""
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return str(path)


def seed_orders(database: Database, count: int) -> None:
    """`count` orders of two lines each, spread over hours, statuses, customers and totals.

    Some share a created_at (and some a total) so the id tie-breaker of the keyset matters.
    """
    with UnitOfWork(database) as u:
        mug = u.products.add(Product(sku="MUG-01", name="Mug", unit_price=Decimal("12.50")))
        cap = u.products.add(Product(sku="CAP-01", name="Cap", unit_price=Decimal("9.99")))
        customers = [u.customers.add(Customer(email=e, name=None)) for e in SEED_EMAILS]
        for n in range(count):
            qty = n % 4 + 1
            created = SEED_START + timedelta(hours=n // 2)  # pairs share a timestamp
            lines = [
                OrderItem(product_id=mug.id, sku="MUG-01", name="Mug", quantity=qty,
                          unit_price=Decimal("12.50"), line_total=Decimal("12.50") * qty),
                OrderItem(product_id=cap.id, sku="CAP-01", name="Cap", quantity=1,
                          unit_price=Decimal("9.99"), line_total=Decimal("9.99")),
            ]  # fmt: skip
            u.session.add(
                Order(
                    external_ref=f"SEED-{n:04d}",
                    customer=customers[n % 3],
                    status=SEED_STATUSES[n % len(SEED_STATUSES)].value,
                    currency="EUR",
                    total=sum((line.line_total for line in lines), Decimal("0")),
                    created_at=created,
                    updated_at=created,
                    created_by="seed",
                    items=lines,
                    events=[OrderEvent(at=created, actor="seed", action="created")],
                )
            )
        u.commit()


def ago(**kwargs: float) -> datetime:
    return clock.utcnow() - timedelta(**kwargs)


class Shop:
    """A small catalog: TRACK (stock 100, its opening movement in the ledger) and FREE (stock
    not tracked). Orders are written directly, as `orders create` leaves them: lines of a
    tracked product hold their quantity unless the order is cancelled (stock is not taken, so
    tests read what a release gives back)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        with UnitOfWork(database) as u:
            u.session.add(Customer(email="ann@example.com", name="Ann"))
            u.products.add(
                Product(sku="TRACK", name="Tracked", unit_price=Decimal("2.50"), stock=100)
            )
            u.products.add(Product(sku="FREE", name="Free", unit_price=Decimal("10.00")))
            u.commit()
            self.customer_id = u.session.scalar(select(Customer.id))
            self.products = {
                p.sku: (p.id, p.unit_price) for p in u.session.scalars(select(Product))
            }

    def order(
        self,
        status: str,
        *,
        created: datetime,
        updated: datetime | None = None,
        lines: Sequence[tuple[str, int]] = (("TRACK", 2),),
        total: Decimal | None = None,
        events: int = 1,
    ) -> int:
        with UnitOfWork(self.database) as u:
            items = []
            for sku, qty in lines:
                pid, price = self.products[sku]
                items.append(
                    OrderItem(
                        product_id=pid,
                        sku=sku,
                        name=sku.title(),
                        quantity=qty,
                        unit_price=price,
                        line_total=price * qty,
                        reserved=qty if sku == "TRACK" and status != "cancelled" else 0,
                    )
                )
            order = Order(
                customer_id=self.customer_id,
                status=status,
                currency="EUR",
                total=total
                if total is not None
                else sum((i.line_total for i in items), Decimal(0)),
                created_at=created,
                updated_at=updated or created,
                items=items,
                events=[
                    OrderEvent(at=created, actor="seed", action="created", to_status=status)
                    for _ in range(events)
                ],
            )
            u.session.add(order)
            u.commit()
            return order.id

    def stock(self, sku: str = "TRACK") -> int | None:
        with UnitOfWork(self.database) as u:
            return u.session.scalar(select(Product.stock).where(Product.sku == sku))

    def status(self, order_id: int) -> str | None:
        with UnitOfWork(self.database) as u:
            return u.session.scalar(select(Order.status).where(Order.id == order_id))

    def events(self, order_id: int) -> list[OrderEvent]:
        with UnitOfWork(self.database) as u:
            stmt = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
            events = list(u.session.scalars(stmt))
            u.session.expunge_all()  # keep them readable after the unit of work rolls back
            return events
