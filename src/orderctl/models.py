"""SQLAlchemy 2.0 ORM models for the whole domain (DESIGN.md §1, §3–§5), mapped onto the Core
tables of `orderctl.tables` (the schema is defined there, once; the annotations here type it).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from orderctl import tables


class Base(DeclarativeBase):
    metadata = tables.metadata


class User(Base):
    __table__ = tables.users

    id: Mapped[int]
    username: Mapped[str]
    password_hash: Mapped[str]
    role: Mapped[str]
    active: Mapped[bool]
    failed_logins: Mapped[int]
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(Base):
    __table__ = tables.api_tokens

    id: Mapped[int]
    user_id: Mapped[int]
    name: Mapped[str]
    token_hash: Mapped[str]
    prefix: Mapped[str]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_by: Mapped[str | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class Customer(Base):
    __table__ = tables.customers

    id: Mapped[int]
    email: Mapped[str]
    name: Mapped[str | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None]


class Product(Base):
    __table__ = tables.products

    id: Mapped[int]
    sku: Mapped[str]
    name: Mapped[str]
    unit_price: Mapped[Decimal]
    #: None means stock is not tracked for this product.
    stock: Mapped[int | None]
    active: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None]


class Order(Base):
    __table__ = tables.orders

    id: Mapped[int]
    external_ref: Mapped[str | None]
    customer_id: Mapped[int]
    status: Mapped[str]
    currency: Mapped[str]
    total: Mapped[Decimal]
    notes: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str | None]

    customer: Mapped[Customer] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )


class OrderItem(Base):
    __table__ = tables.order_items

    id: Mapped[int]
    order_id: Mapped[int]
    product_id: Mapped[int]
    sku: Mapped[str]
    name: Mapped[str]
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    line_total: Mapped[Decimal]
    #: Units this line holds of a tracked product's stock (0: imported, untracked, cancelled).
    reserved: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="items")


class OrderEvent(Base):
    __table__ = tables.order_events

    id: Mapped[int]
    order_id: Mapped[int]
    at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str]
    from_status: Mapped[str | None]
    to_status: Mapped[str | None]
    reason: Mapped[str | None]

    order: Mapped[Order] = relationship(back_populates="events")
