"""A sales report over a short range reads only that range's orders through an index
(EXPLAIN on PostgreSQL): the default report (30 days) must not read a million orders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text

from helpers import seed_orders
from orderctl.db import Database
from orderctl.enums import OrderStatus, ReportPeriod
from orderctl.repositories.reports import TimeRange
from orderctl.services.uow import UnitOfWork

COUNTED = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def _sent(database: Database, by: ReportPeriod, statuses: tuple[OrderStatus, ...]) -> Any:
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        captured.append((statement, params))

    when = TimeRange(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with UnitOfWork(database, write=False) as u:
            u.reports.sales(by, when, statuses)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    [(sql, params)] = [(s, p) for s, p in captured if "FROM orders" in s]
    return sql, params


@pytest.mark.parametrize("by", list(ReportPeriod))
@pytest.mark.parametrize("statuses", [COUNTED, (OrderStatus.PENDING,)], ids=["counted", "one"])
def test_a_short_sales_range_is_read_through_an_index(
    database: Database, by: ReportPeriod, statuses: tuple[OrderStatus, ...]
) -> None:
    if database.is_sqlite:
        pytest.skip("EXPLAIN plans are checked on PostgreSQL")
    seed_orders(database, 60)
    with database.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    sql, params = _sent(database, by, statuses)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, params))
        conn.rollback()
    assert "Seq Scan on orders" not in plan, plan
    assert "Seq Scan on order_items" not in plan, plan
    assert "ix_orders_status_created_at_id" in plan or "ix_orders_created_at_id" in plan, plan
