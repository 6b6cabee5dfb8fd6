"""`orders list`: filters, keyset pagination, streaming, formats and SQL statement counts."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from helpers import SEED_EMAILS as EMAILS
from helpers import SEED_START as BASE
from helpers import Cli, count_statements
from helpers import seed_orders as seed
from orderctl.db import Database
from orderctl.enums import OrderSort, OrderStatus, Role
from orderctl.errors import ValidationFailed
from orderctl.models import Order
from orderctl.schemas import OrderCreate
from orderctl.services import order_listing, orders
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork


def all_pages(
    uow: Callable[..., UnitOfWork],
    actor: Actor,
    filters: order_listing.OrderFilters,
    sort: OrderSort,
    limit: int,
) -> list[int]:
    ids: list[int] = []
    cursor: str | None = None
    while True:
        with uow(write=False) as u:
            page = order_listing.list_orders(
                u, actor, filters, sort=sort, limit=limit, cursor=cursor
            )
        ids += [o["id"] for o in page.items]
        assert len(page.items) <= limit
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def expected(database: Database, filters: order_listing.OrderFilters, sort: OrderSort) -> list[int]:
    """The same listing computed in Python from every row."""
    with UnitOfWork(database, write=False) as u:
        rows = [(o.id, o.created_at, o.total, o.status, o.customer.email)
                for o in u.session.query(Order).all()]  # fmt: skip
    out = [
        r for r in rows
        if (not filters.statuses or r[3] in filters.statuses)
        and (filters.customer_email is None or r[4] == filters.customer_email)
        and (filters.since is None or r[1] >= filters.since)
        and (filters.until is None or r[1] < filters.until)
        and (filters.min_total is None or r[2] >= filters.min_total)
        and (filters.max_total is None or r[2] <= filters.max_total)
    ]  # fmt: skip
    key = 1 if sort.lstrip("-") == "created" else 2
    out.sort(key=lambda r: (r[key], r[0]), reverse=sort.startswith("-"))
    return [r[0] for r in out]


@pytest.mark.pgbouncer
def test_keyset_pages_match_every_sort_and_filter(
    database: Database, uow: Callable[..., UnitOfWork], viewer: Actor
) -> None:
    seed(database, 61)
    cases = [
        order_listing.OrderFilters(),
        order_listing.OrderFilters(statuses=(OrderStatus.PAID, OrderStatus.SHIPPED)),
        order_listing.OrderFilters(customer_email="KOFI@example.com"),
        order_listing.OrderFilters(
            since=BASE + timedelta(hours=5), until=BASE + timedelta(hours=20)
        ),
        order_listing.OrderFilters(min_total=Decimal("35"), max_total=Decimal("47.49")),
        order_listing.OrderFilters(customer_email="nobody@example.com"),
    ]
    for filters in cases:
        for sort in OrderSort:
            want = expected(database, filters, sort)
            got = all_pages(uow, viewer, filters, sort, limit=7)
            assert got == want, (filters, sort)


def _cursor(value: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_order_filters_are_checked_and_normalised() -> None:
    """`OrderFilters` is the listing's only check of its filters (no Pydantic on this path):
    what the schemas did before, it must still do."""
    naive = datetime(2026, 11, 1, 12, 0)
    berlin = datetime.fromisoformat("2026-11-01T14:00:00+01:00")
    filters = order_listing.OrderFilters(
        statuses=("paid", OrderStatus.SHIPPED),  # type: ignore[arg-type]  # API strings
        customer_email="  Ana@Example.COM ",
        since=naive,
        until=berlin,
    )
    assert filters.statuses == (OrderStatus.PAID, OrderStatus.SHIPPED)
    assert filters.customer_email == "ana@example.com"
    assert filters.since == naive.replace(tzinfo=UTC)
    assert filters.until == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    assert filters.until.tzinfo is UTC
    for kwargs, needle in [
        ({"statuses": ("lost",)}, "statuses: "),
        ({"customer_email": "not-an-email"}, "customer_email: is not a valid email"),
        ({"customer_email": "a\x00@b.io"}, "customer_email: must not contain NUL"),
        ({"since": datetime.fromisoformat("0001-01-01T00:00:00+01:00")}, "since: is out of"),
        ({"min_total": Decimal("NaN")}, "min_total: must be a finite number"),
        ({"max_total": Decimal("-Infinity")}, "max_total: must be a finite number"),
    ]:
        with pytest.raises(ValidationFailed, match=needle):
            order_listing.OrderFilters(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        filters.customer_email = "x@y.io"  # type: ignore[misc]


def test_bad_limits_and_cursors(uow: Callable[..., UnitOfWork], viewer: Actor) -> None:
    with uow(write=False) as u:
        for limit in (0, -1, 1001):
            with pytest.raises(ValidationFailed, match="limit: must be between 1 and 1000"):
                order_listing.list_orders(u, viewer, limit=limit)
        good = order_listing.encode_cursor(OrderSort.TOTAL, (Decimal("1.00"), 3))
        for sort, cursor in [
            (OrderSort.CREATED_DESC, good),  # made for another sort
            (OrderSort.CREATED_DESC, "garbage"),
            (OrderSort.CREATED_DESC, "'; DROP TABLE orders;--"),
            (OrderSort.TOTAL, "WyJ0b3RhbCIsIk5hTiIsM10"),  # ["total","NaN",3]
            (OrderSort.CREATED, "W10"),  # []
            (OrderSort.CREATED, _cursor(["created", "2026-11-01T00:00:00+00:00", 10**30])),
            (OrderSort.CREATED, _cursor(["created", "2026-11-01T00:00:00", 1])),  # no zone
            (OrderSort.TOTAL, _cursor(["total", "1e400", 1])),
            (OrderSort.TOTAL, _cursor(["total", "1.00", True])),
        ]:
            with pytest.raises(ValidationFailed, match="cursor: not a cursor"):
                order_listing.list_orders(u, viewer, sort=sort, cursor=cursor)
        assert order_listing.list_orders(u, viewer, sort=OrderSort.TOTAL, cursor=good).items == []


def test_statement_counts_do_not_grow_with_the_page(
    database: Database, uow: Callable[..., UnitOfWork], operator: Actor
) -> None:
    seed(database, 205)
    counts = []
    for limit in (5, 200):
        with uow(write=False) as u, count_statements(database) as statements:
            page = order_listing.list_orders(u, operator, limit=limit)
        assert len(page.items) == limit
        counts.append(len([s for s in statements if s.lstrip().upper().startswith("SELECT")]))
    assert counts[0] == counts[1] == 2  # orders with their customers, then items by IN
    with uow(write=False) as u, count_statements(database) as statements:
        order, events = orders.get_order_with_history(u, operator, "SEED-0102")
    assert len(order.items) == 2 and len(events) == 1
    assert len([s for s in statements if "SELECT" in s.upper()]) == 4
    data = OrderCreate.model_validate(
        {"customer_email": "ana@example.com",
         "items": [{"sku": "MUG-01", "quantity": 1}, {"sku": "CAP-01", "quantity": 2}]}
    )  # fmt: skip
    with uow() as u, count_statements(database) as statements:
        orders.create_order(u, operator, data)
    # BEGIN, products (IN), customer, order, event, items (one or one per line on SQLite);
    # the catalog's products are untracked, so there is nothing to reserve. SAVEPOINT and
    # RELEASE around the insert (a concurrent create of the same ref or customer replays).
    assert len(statements) <= 9, statements
    with uow() as u, count_statements(database) as statements:
        orders.set_status(u, operator, order.id, OrderStatus.CANCELLED)
    # BEGIN, order, items, customer, the compare-and-set UPDATE, one restock per line, event.
    assert len(statements) <= 8, statements


@pytest.mark.pgbouncer
def test_all_streams_in_keyset_batches(
    cli: Cli, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(database, 23)
    monkeypatch.setattr(order_listing, "STREAM_BATCH", 5)
    # Pages are counted here, so SQLite streams in this process (the forked reader's pages
    # are checked in tests/test_performance.py).
    from orderctl.repositories.orders import _stream

    monkeypatch.setattr(_stream, "_sqlite_stream_in_two", lambda *_args: None)
    page_queries: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT ORDERS."):
            page_queries.append(statement)
            if "OFFSET" in statement.upper():  # SQLite always renders LIMIT ? OFFSET ?
                assert statement.rstrip().upper().endswith("LIMIT ? OFFSET ?")
                assert params[-1] == 0

    # The CLI builds its own engine: listen on every engine for the duration of the command.
    event.listen(Engine, "before_cursor_execute", record)
    try:
        result = cli("orders", "list", "--all", "-o", "jsonl", role=Role.VIEWER)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [json.loads(line)["external_ref"] for line in lines] == [
        f"SEED-{n:04d}" for n in sorted(range(23), key=lambda n: (n // 2, n), reverse=True)
    ]
    assert len(page_queries) == 5  # 23 rows in batches of 5
    table = cli("orders", "list", "--all", "--status", "paid", role=Role.VIEWER)
    assert table.exit_code == 0 and table.stdout.count("SEED-") == 4


@pytest.mark.pgbouncer
def test_list_formats(cli: Cli, database: Database) -> None:
    seed(database, 12)
    out = cli("orders", "list", "-o", "json", "--limit", "4", role=Role.VIEWER)
    assert out.exit_code == 0, out.stderr
    docs = json.loads(out.stdout)
    assert isinstance(docs, list) and len(docs) == 4
    assert docs[0]["external_ref"] == "SEED-0011" and docs[0]["total"] == "59.99"
    assert "--cursor" in out.stderr  # more pages: said on stderr, stdout stays data
    jsonl = cli("orders", "list", "-o", "jsonl", "--limit", "4").stdout.splitlines()
    assert [json.loads(line) for line in jsonl] == docs
    rows = list(csv.DictReader(io.StringIO(cli("orders", "list", "-o", "csv").stdout)))
    assert len(rows) == 12 and rows[0]["customer.email"] == EMAILS[11 % 3]
    table = cli("orders", "list", "--sort", "total", "--limit", "3")
    assert table.exit_code == 0 and "\x1b[" not in table.stdout
    assert "ID" in table.stdout and "SEED-0000" in table.stdout
    empty = cli("orders", "list", "--customer", "nobody@example.com")
    assert empty.exit_code == 0 and empty.stdout == "" and "no orders" in empty.stderr
    assert cli("orders", "list", "--customer", "x@y.io", "-o", "json").stdout == "[]\n"
    # The cursor printed on stderr continues the listing.
    cursor = out.stderr.rsplit("--cursor ", 1)[1].strip()
    nxt = cli("orders", "list", "-o", "json", "--limit", "4", "--cursor", cursor)
    assert json.loads(nxt.stdout)[0]["external_ref"] == "SEED-0007"


@pytest.mark.pgbouncer
def test_list_filters_on_the_cli(cli: Cli, database: Database) -> None:
    seed(database, 30)

    def refs(*args: str) -> list[str]:
        result = cli("orders", "list", "--all", "-o", "jsonl", *args, role=Role.VIEWER)
        assert result.exit_code == 0, result.stderr
        return [json.loads(line)["external_ref"] for line in result.stdout.splitlines()]

    assert len(refs("--status", "PAID", "--status", "refunded")) == 10
    assert len(refs("--customer", "Li.Wei@example.com")) == 10
    # Orders are two an hour from 2026-11-01T12:00Z: the 1st has 24 of them (hours 12..23).
    assert len(refs("--since", "2026-11-01", "--until", "2026-11-01")) == 24
    assert len(refs("--since", "2026-11-02T00:00:00Z")) == 6
    assert len(refs("--until", "2026-11-01T13:00:00")) == 2
    assert len(refs("--since", "2026-11-01T14:00:00+02:00", "--until", "2026-11-01T13:00Z")) == 2
    assert len(refs("--min-total", "47.49", "--max-total", "59.99")) == 14
    assert refs("--sort", "-total", "--max-total", "22.49") == [
        f"SEED-{n:04d}" for n in (28, 24, 20, 16, 12, 8, 4, 0)
    ]


USAGE = [
    (["--since", "the day before"], 2, "--since: expected an ISO date or datetime"),
    (["--until", "2026-13-45"], 2, "--until: expected an ISO date or datetime"),
    (["--min-total", "abc"], 2, "--min-total: expected an amount"),
    (["--max-total", "NaN"], 2, "--max-total: expected an amount"),
    (["--status", "lost"], 2, ""),
    (["--sort", "name"], 2, ""),
    (["--limit", "ten"], 2, ""),
    (["--limit", "0"], 6, "error: limit: must be between 1 and 1000"),
    (["--all", "--limit", "5"], 2, "error: --all cannot be combined"),
    (["--cursor", "nope"], 6, "error: cursor: not a cursor"),
    (["--customer", "not-an-email"], 6, "error: customer_email: is not a valid email address"),
    (["--customer", "';DROP_TABLE_orders;--@x.io"], 0, "no orders"),
    (["--customer", "a\x00@b.io"], 6, "error: customer_email: must not contain NUL"),
    (["--customer", "x" * 300 + "@b.io"], 6, "error: customer_email: is not a valid email"),
    (["--customer", "Zoë.Ünïcode@例え.jp"], 0, "no orders"),
    (["--min-total", "1e400"], 6, "error: --min-total: must be between"),
    (["--max-total", "-1e999999"], 6, "error: --max-total: must be between"),
    (["--min-total", "99999999999", "--max-total", "-5"], 2, "error: inverted range"),
    (["--since", "9999-12-31", "--until", "0001-01-01"], 2, "error: inverted range"),
    (["--until", "9999-12-31"], 0, "no orders"),
    (["--since", "0001-01-01T00:00:00+01:00"], 2, "--since: expected an ISO date"),
]


def test_list_bad_options(cli: Cli) -> None:
    for args, code, needle in USAGE:
        result = cli("orders", "list", *args, role=Role.VIEWER)
        assert result.exit_code == code, (args, result.stderr)
        assert needle in result.stderr, (args, result.stderr)
        assert result.stdout == "", args


def test_colours_on_a_terminal_and_no_color(cli: Cli, backend: str, tmp_path: Path) -> None:
    if backend != "sqlite":
        pytest.skip("terminal behaviour does not depend on the backend")
    seed(cli.database, 1)
    coloured = cli.on_terminal("orders", "show", "1", role=Role.VIEWER, columns=120).raw
    assert b"SEED-0000" in coloured and b"\x1b[33mpending" in coloured  # STATUS_STYLES
    plain = cli.on_terminal(
        "orders", "show", "1", role=Role.VIEWER, columns=120, env={"NO_COLOR": "1"}
    ).raw
    assert b"SEED-0000" in plain and b"\x1b[" not in plain


def test_a_read_only_sqlite_database_can_be_read(cli: Cli, database: Database) -> None:
    """Reads need no write: the token check skips `last_used_at` and `--all` streams in one
    process when the database cannot be written (here SQLite's read-only URI mode)."""
    if not database.is_sqlite:
        pytest.skip("read-only mode is a SQLite URI option")
    seed(database, 12)
    token = cli.token(Role.VIEWER)  # made while writable; never used yet, so stale
    path = cli.db_url.removeprefix("sqlite:///")
    env = {"ORDERCTL_DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true"}
    env["ORDERCTL_TOKEN"] = token
    listed = cli("orders", "list", "--all", "-o", "jsonl", role=None, env=env)
    assert listed.exit_code == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 12
    page = cli("orders", "list", "-o", "json", role=None, env=env)
    assert page.exit_code == 0 and len(json.loads(page.stdout)) == 12
