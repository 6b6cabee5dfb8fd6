"""SQLite's side of the bulk import writer (`_bulk.OrderBatchWriter`): plain
`executemany` on the raw cursor, with ids given here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from orderctl.enums import EventAction
from orderctl.order_content import TEXT_FIELDS

if TYPE_CHECKING:
    import sqlite3

    from orderctl.repositories.orders.records import NewOrder


_ORDER_COLUMNS = (
    "id", "external_ref", "customer_id", "status", "currency", "total", *TEXT_FIELDS,
    "created_at", "updated_at", "created_by",
)  # fmt: skip
_INSERT_ORDER = (
    f"INSERT INTO orders ({', '.join(_ORDER_COLUMNS)}) "
    f"VALUES ({','.join('?' * len(_ORDER_COLUMNS))})"
)


def sqlite_ts(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime stores (naive UTC, always with microseconds), so ORM
    # reads and keyset comparisons see the same thing. isoformat is 2x faster than strftime.
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def write_orders_sqlite(
    cur: sqlite3.Cursor, orders: list[NewOrder], *, actor: str, reason: str, now: datetime
) -> int:
    """Write orders, their items and one `imported` event each; returns the statements sent.

    Ids are max(id) + 1, …: safe, as the unit of work began with BEGIN IMMEDIATE, so this
    transaction holds SQLite's write lock and no other writer can take them before it commits.
    """
    action = EventAction.IMPORTED.value
    stamp = sqlite_ts(now)
    cur.execute(
        "SELECT (SELECT coalesce(max(id), 0) FROM orders), "
        "(SELECT coalesce(max(id), 0) FROM order_items), "
        "(SELECT coalesce(max(id), 0) FROM order_events)"
    )
    order_id, item_id, event_id = (int(v) for v in cur.fetchone())
    order_rows = []
    item_rows = []
    event_rows = []
    for o in orders:
        order_id += 1
        event_id += 1
        created = sqlite_ts(o.created_at)
        updated = created if o.updated_at == o.created_at else sqlite_ts(o.updated_at)
        order_rows.append(
            (order_id, o.external_ref, o.customer_id, o.status, o.currency, str(o.total),
             *o.texts, created, updated, actor)
        )  # fmt: skip
        for pid, sku, name, qty, price, line_total in o.items:
            item_id += 1
            item_rows.append((item_id, order_id, pid, sku, name, qty, str(price), str(line_total)))
        event_rows.append((event_id, order_id, stamp, actor, action, None, o.status, reason))
    cur.executemany(_INSERT_ORDER, order_rows)
    cur.executemany(
        "INSERT INTO order_items (id, order_id, product_id, sku, name, quantity, "
        "unit_price, line_total) VALUES (?,?,?,?,?,?,?,?)",
        item_rows,
    )
    cur.executemany(
        "INSERT INTO order_events (id, order_id, at, actor, action, from_status, "
        "to_status, reason) VALUES (?,?,?,?,?,?,?,?)",
        event_rows,
    )
    return 4
