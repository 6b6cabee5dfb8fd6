"""Index-backed text search (DESIGN.md §12; docs/orders.md, *Finding orders*): the ids of the
customers whose email or name, and of the orders whose external ref, hold a text in any case.

PostgreSQL: `ILIKE '%text%'` on the columns, which pg_trgm's GIN indexes serve. SQLite: a
phrase `MATCH` on the FTS5 `trigram` tables (case-insensitive, Unicode case folding), kept in
step with the tables by triggers (migration 0004). Both need a text of three characters or
more (`order_filters.SEARCH_MIN`), the shortest a trigram index can look up.

Core only (no ORM models): `orders list` imports this module.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, Select, bindparam, column, literal_column, or_, select, table

from orderctl.tables import CUSTOMERS_SEARCH, ORDERS_SEARCH, customers, orders


def _like_pattern(text: str) -> str:
    """`%text%` with LIKE's own characters escaped (`\\` is the escape)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_match(name: str, text: str) -> Select[Any]:
    """The rowids of the FTS5 table `name` holding `text` (one phrase: no query syntax)."""
    phrase = '"' + text.replace('"', '""') + '"'
    fts = table(name, column("rowid"))
    return select(fts.c.rowid).where(
        literal_column(name).op("MATCH")(bindparam("q", phrase, unique=True))
    )


def customer_ids(dialect: str, text: str) -> Select[Any]:
    """The ids of the customers whose email or name holds `text`, in any case."""
    if dialect == "sqlite":
        return _fts_match(CUSTOMERS_SEARCH, text)
    pattern: Any = bindparam("pattern", _like_pattern(text), unique=True)
    return select(customers.c.id).where(
        or_(
            customers.c.email.ilike(pattern, escape="\\"),
            customers.c.name.ilike(pattern, escape="\\"),
        )
    )


def order_ids(dialect: str, text: str) -> CompoundSelect[Any]:
    """The ids of the orders whose customer's email or name, or whose external ref, holds
    `text`, in any case: a union of two index look-ups."""
    by_customer = select(orders.c.id).where(orders.c.customer_id.in_(customer_ids(dialect, text)))
    if dialect == "sqlite":
        by_ref = _fts_match(ORDERS_SEARCH, text)
    else:
        pattern: Any = bindparam("pattern", _like_pattern(text), unique=True)
        by_ref = select(orders.c.id).where(orders.c.external_ref.ilike(pattern, escape="\\"))
    return by_customer.union(by_ref)
