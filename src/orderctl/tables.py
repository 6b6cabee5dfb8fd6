"""The database schema as SQLAlchemy Core tables (DESIGN.md §1, §3–§5): the one definition
that the ORM models map, Alembic compares against, and the read queries use directly.

Read paths run many times a day (`orders list`, the token check of every command) query these
tables with Core and never import the ORM models: defining these tables costs ~30 M
instructions, the models ~90 M more plus their mapper configuration (docs/performance.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

from orderctl import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Numeric(12, 2): at most 9,999,999,999.99.
MONEY_MAX = Decimal("9999999999.99")

#: Order ids are BIGINT: a larger number cannot name an order (and must not reach the database).
ORDER_ID_MAX = 2**63 - 1

# SQLite only auto-increments INTEGER PRIMARY KEY, so big ids are INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; orderctl stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return clock.as_utc(value)  # SQLite gives naive text (raw from a bulk insert) or datetimes


Money = Numeric(12, 2)
metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def _big_id() -> Column[int]:
    return Column("id", BigId, primary_key=True)


def _required(name: str, *args: Any, **kwargs: Any) -> Column[Any]:
    return Column(name, *args, nullable=False, **kwargs)


def _optional(name: str, *args: Any, **kwargs: Any) -> Column[Any]:
    return Column(name, *args, nullable=True, **kwargs)


def _created_at() -> Column[datetime]:
    return _required("created_at", UTCDateTime(), default=clock.utcnow)


def _updated_at() -> Column[datetime]:
    return _required("updated_at", UTCDateTime(), default=clock.utcnow, onupdate=clock.utcnow)


def _who(name: str) -> Column[str]:
    """The username behind a write (`created_by`, `updated_by`)."""
    return _optional(name, String(64))


users = Table(
    "users",
    metadata,
    _id(),
    _required("username", String(64), unique=True),
    _required("password_hash", String(255)),
    _required("role", String(16)),
    _required("active", Boolean, default=True),
    _required("failed_logins", Integer, default=0),
    _optional("locked_until", UTCDateTime()),
    _created_at(),
    _updated_at(),
    _who("updated_by"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    _required("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True),
    _required("name", String(100)),
    _required("token_hash", String(64), unique=True),
    _required("prefix", String(16)),
    _created_at(),
    _optional("expires_at", UTCDateTime(), index=True),
    _optional("last_used_at", UTCDateTime()),
    _optional("revoked_at", UTCDateTime()),
    _who("created_by"),
)

customers = Table(
    "customers",
    metadata,
    _id(),
    _required("email", String(254), unique=True),
    _optional("name", String(200)),
    _created_at(),
    _who("created_by"),
)

products = Table(
    "products",
    metadata,
    _id(),
    _required("sku", String(64), unique=True),
    _required("name", String(200)),
    _required("unit_price", Money),
    #: NULL means stock is not tracked for this product.
    _optional("stock", Integer),
    _required("active", Boolean, default=True),
    _created_at(),
    _updated_at(),
    _who("updated_by"),
    CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
)

orders = Table(
    "orders",
    metadata,
    _big_id(),
    _optional("external_ref", String(100), unique=True),
    _required("customer_id", Integer, ForeignKey("customers.id")),
    _required("status", String(16)),
    _required("currency", String(3)),
    _required("total", Money),
    _optional("notes", Text),
    _optional("shipping_address", Text),
    _created_at(),
    # No onupdate: a status change sets it to the change's time (which may be backdated).
    _required("updated_at", UTCDateTime(), default=clock.utcnow),
    _who("created_by"),
    # Keyset paging: every list sort ends in id, and each filter leads an index.
    Index("ix_orders_created_at_id", "created_at", "id"),
    Index("ix_orders_status_created_at_id", "status", "created_at", "id"),
    Index("ix_orders_customer_id_created_at_id", "customer_id", "created_at", "id"),
    Index("ix_orders_total_id", "total", "id"),
    Index("ix_orders_status_updated_at", "status", "updated_at"),
)

order_items = Table(
    "order_items",
    metadata,
    _big_id(),
    _required("order_id", BigId, ForeignKey("orders.id", ondelete="CASCADE")),
    _required("product_id", Integer, ForeignKey("products.id")),
    # sku and name are copied so an order shows what was sold even if the catalog changes.
    _required("sku", String(64)),
    _required("name", String(200)),
    _required("quantity", Integer),
    _required("unit_price", Money),
    _required("line_total", Money),
    # What this line took from a tracked product's stock: its quantity when `orders create`
    # reserved it, 0 for imported lines and untracked products, and 0 again once an order is
    # cancelled (DESIGN.md §13). The bulk import omits it, so the server default applies.
    _required("reserved", Integer, default=0, server_default=text("0")),
    UniqueConstraint("order_id", "sku", name="uq_order_items_order_id_sku"),
    # `orders list --sku`: a product's orders from the index alone (and the foreign key's).
    Index("ix_order_items_product_id_order_id", "product_id", "order_id"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("reserved >= 0 AND reserved <= quantity", name="reserved_within_quantity"),
)

order_events = Table(
    "order_events",
    metadata,
    _big_id(),
    _required("order_id", BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True),
    _required("at", UTCDateTime(), default=clock.utcnow),
    _required("actor", String(64)),
    _required("action", String(32)),
    _optional("from_status", String(16)),
    _optional("to_status", String(16)),
    _optional("reason", Text),
    # The writing transaction (PostgreSQL: `pg_current_xact_id()`, the default migration 0005
    # sets there; SQLite and older rows: 0). Followers read events in (txid, id) order and only
    # from transactions older than any still running: docs/events.md. A transaction id means
    # something only on the server that wrote it: `db copy` writes `copy_as` (0: an old,
    # settled event) and leaves the column out of its checksums.
    _required("txid", BigInteger, server_default=text("0"), info={"copy_as": 0}),
    Index("ix_order_events_txid_id", "txid", "id"),
)

#: The stock ledger (DESIGN.md §13): one row per change of a tracked product's stock, never
#: updated or deleted. For every tracked product, stock = Σ quantity.
stock_movements = Table(
    "stock_movements",
    metadata,
    _big_id(),
    _required("product_id", Integer, ForeignKey("products.id")),
    #: Signed: what the change added to the stock (negative takes away).
    _required("quantity", Integer),
    _required("reason", String(16)),
    # `purge-orders` deletes old orders but keeps their movements: the link becomes NULL.
    _optional("order_id", BigId, ForeignKey("orders.id", ondelete="SET NULL"), index=True),
    _required("actor", String(64)),
    _optional("note", Text),
    _required("at", UTCDateTime(), default=clock.utcnow),
    Index("ix_stock_movements_product_id_id", "product_id", "id"),
    CheckConstraint("quantity <> 0", name="quantity_not_zero"),
    CheckConstraint(
        "reason IN ('set', 'adjust', 'reserve', 'release', 'correction')", name="reason_known"
    ),
)


# ---- search (DESIGN.md §12; docs/orders.md, *Finding orders*; migration 0004) ----

#: PostgreSQL: pg_trgm GIN indexes serving `column ILIKE '%text%'` (not made on SQLite).
TRIGRAM_INDEXES = tuple(
    Index(
        f"ix_{column.table.name}_{column.name}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column.name: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")
    for column in (customers.c.email, customers.c.name, orders.c.external_ref)
)
#: SQLite: FTS5 `trigram` tables over the same columns (external content, kept by triggers;
#: rowid = the customer's or order's id). Migration 0004 makes them: Core has no virtual
#: tables, so Alembic's comparison leaves them (and their shadow tables) out, see
#: `schema_filters`.
CUSTOMERS_SEARCH = "customers_search"
ORDERS_SEARCH = "orders_search"


def is_search_table(name: str) -> bool:
    """Whether `name` is one of SQLite's FTS5 search tables or their shadow tables: an index
    of other tables' data, with none of its own."""
    return name.startswith((CUSTOMERS_SEARCH, ORDERS_SEARCH))


def schema_filters(dialect: str) -> dict[str, Any]:
    """Alembic's `include_name`/`include_object` for comparing this metadata with a database
    of `dialect`: without SQLite's FTS5 tables, and without PostgreSQL-only indexes elsewhere."""
    postgresql_only = {index.name for index in TRIGRAM_INDEXES}

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return not (type_ == "table" and name is not None and is_search_table(name))

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        return not (type_ == "index" and name in postgresql_only and dialect != "postgresql")

    return {"include_name": include_name, "include_object": include_object}
