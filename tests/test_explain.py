"""Every `orders list` query shape is served by an index (EXPLAIN on PostgreSQL), and no
orders query skips rows with OFFSET (keyset pagination only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.dialects import postgresql

from helpers import Cli
from helpers import seed_orders as seed
from orderctl.db import Database
from orderctl.enums import OrderSort, OrderStatus, Role
from orderctl.order_filters import OrderFilters
from orderctl.services.uow import UnitOfWork

SINCE = datetime(2026, 11, 2, tzinfo=UTC)
UNTIL = datetime(2026, 11, 3, tzinfo=UTC)

#: The single filters of DESIGN.md §5 (as `OrderRepository.page` arguments) ...
FILTERS: dict[str, dict[str, Any]] = {
    "none": {},
    "status": {"statuses": ["paid"]},
    "statuses": {"statuses": ["paid", "shipped"]},
    "customer": {"customer_email": "ana@example.com"},
    "since": {"since": SINCE},
    "until": {"until": UNTIL},
    "min_total": {"min_total": Decimal("40")},
    "max_total": {"max_total": Decimal("30")},
    "search": {"search": "kofi"},
    "sku": {"sku": "CAP-01"},
}
#: ... and a few combined ones.
COMBINED: dict[str, dict[str, Any]] = {
    "status+customer": {"statuses": ["paid"], "customer_email": "ana@example.com"},
    "status+since+until": {"statuses": ["pending"], "since": SINCE, "until": UNTIL},
    "customer+since": {"customer_email": "kofi@example.com", "since": SINCE},
    "min+max_total": {"min_total": Decimal("20"), "max_total": Decimal("50")},
    "status+min_total": {"statuses": ["shipped"], "min_total": Decimal("20")},
    "search+sku+status": {"search": "SEED-001", "sku": "MUG-01", "statuses": ["paid"]},
}
SORTS = [sort.value for sort in OrderSort]
AFTER = {  # a keyset bound of a later page, per sort key
    "created": (datetime(2026, 11, 4, tzinfo=UTC), 50),
    "total": (Decimal("35.00"), 50),
}


def _filters(filters: dict[str, Any]) -> OrderFilters:
    return OrderFilters(**{**filters, "statuses": tuple(filters.get("statuses", ()))})


def _cases() -> Iterator[Any]:
    for name, filters in {**FILTERS, **COMBINED}.items():
        for sort in SORTS:
            yield pytest.param(filters, sort, id=f"{name}-{sort}")


def _statements(database: Database, run: Callable[[UnitOfWork], Any]) -> list[tuple[str, Any]]:
    """The SQL (with parameters) that `run` sends to the database."""
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        captured.append((statement, params))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with UnitOfWork(database, write=False) as u:
            run(u)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    return captured


def _plan(database: Database, sql: str, params: Any) -> str:
    with database.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql("EXPLAIN " + sql, params).all()
        conn.rollback()
    return "\n".join(row[0] for row in rows)


@pytest.fixture
def seeded(database: Database) -> Database:
    seed(database, 60)
    if database.is_sqlite:
        return database
    with database.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return database


@pytest.mark.parametrize(("filters", "sort"), list(_cases()))
def test_every_list_query_shape_uses_an_index(
    seeded: Database, filters: dict[str, Any], sort: str
) -> None:
    """EXPLAIN the exact SQL the repository runs (first page, a later page, and a streamed
    batch) with sequential scans discouraged: a `Seq Scan on orders` means no index can serve
    that filter/sort, which on a million orders is a full-table read per page."""
    if seeded.is_sqlite:
        pytest.skip("EXPLAIN plans are checked on PostgreSQL (SQLite: see docs/performance.md)")
    after = AFTER[sort.lstrip("-")]

    where = _filters(filters)

    def run(u: UnitOfWork) -> None:
        u.orders.with_items(u.orders.page(where, sort=sort, limit=30, peek=True).docs)
        u.orders.page(where, sort=sort, after=after, limit=30, peek=True)
        rows = u.orders.page(where, sort=sort, after=after, limit=1000)
        u.orders.with_items(rows.docs)

    statements = _statements(seeded, run)
    order_queries = [(s, p) for s, p in statements if "FROM orders" in s]
    assert len([s for s, _ in order_queries if "ORDER BY" in s]) == 3, statements
    for sql, params in order_queries:
        plan = _plan(seeded, sql, params)
        assert "Seq Scan on orders" not in plan, f"{sql}\n{plan}"
        assert "Index" in plan, plan
    # The item look-ups of a page (one IN query) use indexes too.
    for sql, params in statements:
        if "FROM orders" in sql:
            continue
        plan = _plan(seeded, sql, params)
        assert "Seq Scan on order_items" not in plan, f"{sql}\n{plan}"
        assert "Seq Scan on customers" not in plan, f"{sql}\n{plan}"


@pytest.mark.parametrize(
    ("filters", "indexes"),
    [
        (
            {"search": "kofi"},
            ["ix_customers_email_trgm", "ix_customers_name_trgm", "ix_orders_external_ref_trgm"],
        ),
        ({"sku": "CAP-01"}, ["ix_order_items_product_id_order_id"]),
    ],
)
def test_search_and_sku_plans_use_their_indexes(
    seeded: Database, filters: dict[str, Any], indexes: list[str]
) -> None:
    """`--search` reads the pg_trgm GIN indexes (customers' email and name, orders'
    external_ref), `--sku` the order_items(product_id, order_id) index."""
    if seeded.is_sqlite:
        pytest.skip("EXPLAIN plans are checked on PostgreSQL (SQLite: FTS5, docs/performance.md)")
    with seeded.engine.connect() as conn:
        # Enough customers and orders that reading them all is not the cheaper plan.
        conn.execute(
            text(
                "INSERT INTO customers (email, name, created_at) SELECT 'c' || g || '@x.io', "
                "'Name ' || g, now() FROM generate_series(1, 20000) AS g"
            )
        )
        conn.execute(
            text(
                "INSERT INTO orders (customer_id, status, currency, total, created_at, updated_at)"
                " SELECT id, 'paid', 'EUR', 10, now(), now() FROM customers"
                " CROSS JOIN generate_series(1, 3) WHERE email LIKE '%@x.io'"
            )
        )
        conn.execute(text("ANALYZE"))
        conn.commit()
    where = _filters(filters)
    statements = _statements(seeded, lambda u: u.orders.page(where, sort="-created", limit=30))
    (page_sql, params) = [(s, p) for s, p in statements if "ORDER BY" in s][-1]
    plan = _plan(seeded, page_sql, params)
    for index in indexes:
        assert index in plan, plan


def test_show_uses_indexes(seeded: Database) -> None:
    if seeded.is_sqlite:
        pytest.skip("EXPLAIN plans are checked on PostgreSQL")

    def run(u: UnitOfWork) -> None:
        u.orders.get(7, with_events=True)
        u.orders.get_by_external_ref("SEED-0007", with_events=True)

    statements = _statements(seeded, run)
    assert statements
    for sql, params in statements:
        plan = _plan(seeded, sql, params)
        assert "Seq Scan" not in plan, f"{sql}\n{plan}"


def test_list_sql_has_no_offset_on_postgresql(database: Database) -> None:
    """The compiled statement has no OFFSET on PostgreSQL at all (SQLite renders a literal
    `OFFSET 0` with every LIMIT, which skips nothing)."""
    from orderctl.repositories.orders._shapes import LISTING

    with UnitOfWork(database, write=False) as u:
        stmt, _ = u.orders.documents._page(
            LISTING,
            OrderFilters(statuses=(OrderStatus.PAID,), since=SINCE),
            sort="-created",
            after=AFTER["created"],
        )
    sql = str(stmt.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
    assert "OFFSET" not in sql.upper() and "LIMIT" in sql.upper()


def _offsets(statement: str, params: Any) -> list[Any]:
    """The OFFSET values of a statement (SQLite binds `LIMIT ? OFFSET ?` as parameters)."""
    values: list[Any] = []
    upper = statement.upper()
    start = 0
    while (at := upper.find("OFFSET", start)) >= 0:
        start = at + len("OFFSET")
        rest = statement[start:].lstrip()
        if rest.startswith("?") and isinstance(params, tuple | list):
            values.append(params[statement[:at].count("?")])
        elif rest.startswith("%(") and isinstance(params, dict):
            values.append(params[rest[2 : rest.index(")")]])
        else:
            values.append(rest.split()[0] if rest else "")
    return values


def test_no_orders_query_uses_offset(cli: Cli, database: Database) -> None:
    """Through the real CLI: pages by cursor, --all, every sort, show, history: every
    statement has no OFFSET or an OFFSET of 0."""
    seed(database, 45)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        seen.append((statement, params))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        for sort in SORTS:
            first = cli("orders", "list", "--sort", sort, "--limit", "10", role=Role.VIEWER)
            assert first.exit_code == 0, first.stderr
            cursor = first.stderr.rsplit("--cursor ", 1)[1].split()[0]
            later = cli("orders", "list", "--sort", sort, "--limit", "10", "--cursor", cursor)
            assert later.exit_code == 0, later.stderr
            streamed = cli("orders", "list", "--sort", sort, "--all", "-o", "jsonl")
            assert streamed.exit_code == 0 and len(streamed.stdout.splitlines()) == 45
        for args in (["--min-total", "30"], ["--max-total", "30"], ["--status", "paid"]):
            assert cli("orders", "list", *args, "-o", "json").exit_code == 0
        assert cli("orders", "show", "7").exit_code == 0
        assert cli("orders", "history", "7").exit_code == 0
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    order_statements = [(s, p) for s, p in seen if "orders" in s.lower()]
    assert len(order_statements) >= 15
    for statement, params in order_statements:
        assert all(offset == 0 for offset in _offsets(statement, params)), statement


@pytest.mark.parametrize("sort", ["-created", "total"])
def test_many_sku_matches_walk_the_sort_index_on_sqlite(
    seeded: Database, sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With many orders of a SKU, SQLite walks the sort's index and tests each order, rather
    than read every match by rowid and sort them all (docs/performance.md, *Finding orders*);
    the page is the same either way. `FEW` is lowered so that 60 orders count as many."""
    if not seeded.is_sqlite:
        pytest.skip("PostgreSQL's plans: test_every_list_query_shape_uses_an_index")
    from orderctl.repositories.orders import _documents

    where = _filters({"sku": "CAP-01"})

    def page(u: UnitOfWork) -> list[int]:
        return [key for key, _ in u.orders.page(where, sort=sort, limit=10).docs]

    with UnitOfWork(seeded, write=False) as u:
        few = page(u)
    monkeypatch.setattr(_documents, "FEW", 2)
    with UnitOfWork(seeded, write=False) as u:
        assert page(u) == few
    statements = _statements(seeded, page)
    sql, params = next((s, p) for s, p in statements if "ORDER BY" in s)
    with seeded.engine.connect() as conn:
        plan = " | ".join(
            str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
        )
    assert "SCAN orders USING INDEX" in plan and "TEMP B-TREE" not in plan, plan
