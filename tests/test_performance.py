"""Fast to start and fast at scale, checked deterministically (timings live in bench/ and
docs/performance.md, never in tests): what start-up imports, what `--all` streams and how many
statements each of its batches takes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from helpers import Cli, count_statements, hold_row
from helpers import seed_orders as seed
from orderctl.db import Database
from orderctl.enums import OrderSort, OrderStatus, Role
from orderctl.models import Customer, Order, OrderEvent, OrderItem, Product
from orderctl.services import order_listing, orders
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

_PROBE = """
import json, sys
sys.argv = ["orderctl", *json.loads(sys.argv[1])]
from orderctl.cli.main import run
code = 0
try:
    run()
except SystemExit as exc:
    code = exc.code or 0
sys.stdout.flush()
sys.__stderr__.write("\\nMODULES " + json.dumps([code, sorted(sys.modules)]) + "\\n")
"""


def _run_probe(args: list[str], env: dict[str, str]) -> tuple[int, set[str], str]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        check=False,
        timeout=60,
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("MODULES "))
    code, modules = json.loads(line[len("MODULES ") :])
    return code, set(modules), proc.stdout


def _loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


# ---- start-up: what each path imports ----


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["orders", "list", "--help"]])
def test_help_uses_plain_click_help_and_builds_no_group_it_does_not_show(
    args: list[str], tmp_path: Path
) -> None:
    """Rich help formatting (typer.rich_utils pulls in rich.markdown & co.) doubled the time of
    `--help`; no settings, database stack or password hashing either."""
    code, modules, stdout = _run_probe(args, {"HOME": str(tmp_path)})
    assert code == 0
    heavy = ["typer.rich_utils", "rich.markdown", "pydantic_settings", "sqlalchemy", "argon2"]
    assert [m for m in heavy if _loaded(modules, m)] == []
    assert "Usage: orderctl" in stdout or stdout.startswith("orderctl ")


def test_help_lists_every_command_group(tmp_path: Path) -> None:
    code, _, stdout = _run_probe(["--help"], {"HOME": str(tmp_path)})
    assert code == 0
    for group in ("orders", "products", "customers", "users", "auth", "import", "db"):
        assert f"\n  {group} " in stdout, group


def test_a_token_check_loads_no_password_hashing_nor_pydantic_settings(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    """`orders list` with a token: argon2 (and its dummy hash, ~0.1-0.3 s) only for password
    work, config without pydantic-settings, and on SQLite never psycopg."""
    token = cli.token(Role.VIEWER)
    env = {
        "HOME": str(tmp_path),
        "ORDERCTL_CONFIG_DIR": str(tmp_path / "cfg"),
        "ORDERCTL_DATABASE_URL": db_url,
        "ORDERCTL_TOKEN": token,
    }
    for args in (["orders", "list"], ["orders", "list", "--all", "-o", "jsonl"]):
        code, modules, _ = _run_probe(args, env)
        assert code == 0, args
        loaded = [m for m in ("argon2", "pydantic_settings", "dotenv", "alembic", "fastapi")
                  if _loaded(modules, m)]  # fmt: skip
        assert loaded == [], args
        assert _loaded(modules, "psycopg") is not db_url.startswith("sqlite"), args


def test_argon2_is_loaded_on_first_password_use_only() -> None:
    """`services.auth._hasher`/`_DUMMY_HASH` are made on first use (module __getattr__) and
    stay readable and replaceable module attributes (the test suite patches them)."""
    code = (
        "import sys\n"
        "from orderctl.services import auth\n"
        "assert 'argon2' not in sys.modules\n"
        "assert auth.login and 'argon2' not in sys.modules\n"
        "stored = auth.hash_password('a long password')\n"
        "assert auth.verify_password(stored, 'a long password')\n"
        "assert not auth.verify_password(stored, 'a long passworD')\n"
        "assert auth._DUMMY_HASH.startswith('$argon2id$') and 'argon2' in sys.modules\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.stdout.strip() == "ok", proc.stderr


# ---- streaming: the same documents, in flat batches ----

HOSTILE = [
    "Zoë «quoted» \"double\" 'single' \\ backslash",
    "emoji 🧾📦 and RTL שלום مرحبا \u200f mark",
    "line\nbreak\ttab \u0001 control",
    "'; DROP TABLE orders; --",
    "[bold red]markup[/] </script>",
]


def _hostile_orders(database: Database) -> None:
    """Orders whose text, money and timestamps test every conversion of the streamed JSON."""
    base = datetime(2025, 3, 30, 23, 59, 59, 999999, tzinfo=UTC)
    with UnitOfWork(database) as u:
        product = u.products.add(Product(sku="P-1", name="P", unit_price=Decimal("1.00")))
        customers = [
            u.customers.add(Customer(email=f"c{n}@example.com", name=name))
            for n, name in enumerate([None, *HOSTILE])
        ]
        prices = [Decimal("0.01"), Decimal("0.10"), Decimal("12.50"), Decimal("999999999.99")]
        for n in range(len(HOSTILE) * 3):
            price = prices[n % len(prices)]
            qty = [1, 3, 5][n % 3]
            lines = [
                OrderItem(product_id=product.id, sku=f"SKU-{n}-{k}", name=HOSTILE[(n + k) % 5],
                          quantity=qty, unit_price=price, line_total=price * qty)
                for k in range(n % 3)  # 0, 1 or 2 lines
            ]  # fmt: skip
            created = base - timedelta(days=n * 40, microseconds=n)
            u.session.add(
                Order(
                    external_ref=None if n % 4 == 0 else f"ré-{n}-{HOSTILE[n % 5][:20]}",
                    customer=customers[n % len(customers)],
                    status=list(OrderStatus)[n % 6].value,
                    currency="EUR",
                    total=sum((line.line_total for line in lines), Decimal("0")),
                    notes=None if n % 3 == 0 else HOSTILE[n % 5],
                    created_at=created,
                    updated_at=created + timedelta(hours=1, microseconds=7),
                    created_by="seed",
                    items=lines,
                    events=[OrderEvent(at=created, actor="seed", action="created")],
                )
            )
        u.commit()


@pytest.mark.parametrize("sort", list(OrderSort))
def test_streamed_documents_equal_the_order_read_json(
    database: Database, uow: Callable[..., UnitOfWork], viewer: Actor, sort: OrderSort
) -> None:
    """The database-built JSON of `--all` parses to exactly `OrderRead.model_dump(mode="json")`
    for every order (hostile text, 0-2 lines, money at the edges, microsecond timestamps), in
    the same order as the paged listing."""
    _hostile_orders(database)
    with uow(write=False) as u:
        streamed = [json.loads(t) for t in order_listing.iter_order_json(u, viewer, sort=sort)]
        paged = order_listing.list_orders(u, viewer, sort=sort, limit=1000).items
        # The oracle: each order loaded as an ORM entity and dumped by its Pydantic schema.
        dumped = [orders.get_order(u, viewer, doc["id"]).model_dump(mode="json") for doc in paged]
    assert len(streamed) == len(paged) == len(HOSTILE) * 3
    assert streamed == paged == dumped
    # Keys in the order of DESIGN.md §6, as the other outputs.
    assert list(streamed[0]) == list(dumped[0]) and list(paged[0]) == list(dumped[0])


def test_streamed_documents_equal_with_filters_and_small_batches(
    database: Database, uow: Callable[..., UnitOfWork], viewer: Actor
) -> None:
    seed(database, 40)
    filters = order_listing.OrderFilters(statuses=(OrderStatus.PAID, OrderStatus.PENDING),
                                  min_total=Decimal("30"))  # fmt: skip
    with uow(write=False) as u:
        streamed = [
            json.loads(t)
            for t in order_listing.iter_order_json(
                u, viewer, filters, sort=OrderSort.TOTAL_DESC, batch_size=3
            )
        ]
        paged = order_listing.list_orders(u, viewer, filters, sort=OrderSort.TOTAL_DESC, limit=1000)
        dumped = [
            orders.get_order(u, viewer, doc["id"]).model_dump(mode="json") for doc in paged.items
        ]
    assert streamed == paged.items == dumped
    assert 0 < len(streamed) < 40


@pytest.mark.parametrize("batch", [7, 100])
def test_streaming_takes_two_statements_per_batch(
    database: Database, uow: Callable[..., UnitOfWork], viewer: Actor, batch: int
) -> None:
    """One keyset query for the orders of a batch and one IN query for their items, whatever
    the batch size: never a query per order."""
    seed(database, 45)
    with uow(write=False) as u, count_statements(database) as statements:
        count = sum(
            1 for _ in order_listing.iter_order_json(u, viewer, batch_size=batch, fork=False)
        )
    assert count == 45
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    batches = -(-45 // batch)  # the last batch is short: no extra empty query
    assert len(selects) == 2 * batches, selects
    assert sum("order_items" in s for s in selects) == batches


def test_sqlite_streams_in_two_processes_on_one_snapshot(
    database: Database, db_url: str, uow: Callable[..., UnitOfWork], viewer: Actor
) -> None:
    """SQLite: a forked child pages through the orders while this process adds the lines.
    Same output as one process; here only the item query of each batch runs (plus the read
    that starts the snapshot); and an order deleted and committed mid-stream is still
    streamed whole, as both processes read the snapshot taken at the start."""
    seed(database, 45)
    with uow(write=False) as u:
        serial = list(order_listing.iter_order_json(u, viewer, batch_size=7, fork=False))
    with uow(write=False) as u, count_statements(database) as statements:
        forked = list(order_listing.iter_order_json(u, viewer, batch_size=7))
    assert forked == serial
    if not database.is_sqlite:
        return
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert sum("order_items" in s for s in selects) == 7 and len(selects) == 8, selects
    victim = json.loads(serial[-1])["id"]  # streamed in the last batch
    with uow(write=False) as u:
        stream = order_listing.iter_order_json(u, viewer, batch_size=7)
        head = [next(stream) for _ in range(7)]
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        for table, column in (("order_items", "order_id"), ("order_events", "order_id")):
            other.execute(f"DELETE FROM {table} WHERE {column} = ?", (victim,))
        other.execute("DELETE FROM orders WHERE id = ?", (victim,))
        other.close()
        assert head + list(stream) == serial


def test_sqlite_stream_holds_the_write_lock_while_the_two_snapshots_start(
    database: Database,
    db_url: str,
    uow: Callable[..., UnitOfWork],
    viewer: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between the parent's snapshot and the child's, nobody may commit (else the two would
    read different data): a writer trying right then finds the lock taken."""
    if not database.is_sqlite:
        pytest.skip("the two-process stream is SQLite's")
    seed(database, 10)
    attempts: list[str] = []
    from orderctl.repositories.orders import _stream

    real = _stream.iterate_in_child

    def fork_after_a_write_attempt(*args: Any, **kwargs: Any) -> Any:
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0)
        try:
            other.execute("DELETE FROM order_events")
            other.commit()
            attempts.append("committed")
        except sqlite3.OperationalError as exc:
            attempts.append(str(exc))
        finally:
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(_stream, "iterate_in_child", fork_after_a_write_attempt)
    with uow(write=False) as u:
        assert len(list(order_listing.iter_order_json(u, viewer, batch_size=4))) == 10
    assert attempts == ["database is locked"]


def test_sqlite_streams_in_one_process_while_a_writer_holds_the_lock(
    database: Database, db_url: str, uow: Callable[..., UnitOfWork], viewer: Actor
) -> None:
    """The snapshot needs the write lock for a moment; a long writer (an import) holds it, so
    the stream does not wait for it and reads in one process instead."""
    seed(database, 20)
    with uow(write=False) as u:
        serial = list(order_listing.iter_order_json(u, viewer, batch_size=7, fork=False))
    held = hold_row(db_url, database, "orders", "id", "1")
    try:
        with uow(write=False) as u:
            assert list(order_listing.iter_order_json(u, viewer, batch_size=7)) == serial
    finally:
        held.close()


def test_stream_holds_one_batch_of_rows(
    database: Database, uow: Callable[..., UnitOfWork], viewer: Actor
) -> None:
    """Memory stays flat: the ORM session holds nothing, and rows are fetched batch by batch
    (the generator asks for the next batch only when the previous one is consumed)."""
    seed(database, 30)
    fetched: list[int] = []

    def record(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if "json" in statement.lower() and "order_items" not in statement:
            fetched.append(len(fetched))

    with uow(write=False) as u:
        event.listen(database.engine, "before_cursor_execute", record)
        try:
            stream = order_listing.iter_order_json(u, viewer, batch_size=10, fork=False)
            first = [next(stream) for _ in range(10)]
            assert len(fetched) == 1 and len(first) == 10
            assert len(u.session.identity_map) == 0
            rest = list(stream)
        finally:
            event.remove(database.engine, "before_cursor_execute", record)
    # A full last batch costs one more (empty) query to know it was the last.
    assert len(rest) == 20 and len(fetched) == 4


def test_all_formats_of_a_streamed_listing(cli: Cli, database: Database) -> None:
    _hostile_orders(database)
    jsonl = cli("orders", "list", "--all", "-o", "jsonl", role=Role.VIEWER)
    assert jsonl.exit_code == 0, jsonl.stderr
    docs = [json.loads(line) for line in jsonl.stdout.splitlines()]
    as_json = cli("orders", "list", "--all", "-o", "json", role=Role.VIEWER)
    assert json.loads(as_json.stdout) == docs
    paged = cli("orders", "list", "--limit", "1000", "-o", "json", role=Role.VIEWER)
    assert json.loads(paged.stdout) == docs
    table = cli("orders", "list", "--all", role=Role.VIEWER)
    assert table.exit_code == 0, table.stderr
    empty = cli("orders", "list", "--all", "-o", "json", "--status", "refunded",
                "--customer", "nobody@example.com", role=Role.VIEWER)  # fmt: skip
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []


def test_create_and_set_status_take_as_many_statements_for_one_line_as_for_five(
    database: Database, uow: Callable[..., UnitOfWork], operator: Actor
) -> None:
    """The statement count of a write does not grow with the order's lines (untracked stock:
    nothing to reserve or restock). List/show counts: tests/test_orders_list.py; an import
    batch: tests/test_import.py."""
    from orderctl.schemas import OrderCreate

    with uow() as u:
        for n in range(5):
            u.products.add(Product(sku=f"S-{n}", name=f"P{n}", unit_price=Decimal("2.00")))
        u.commit()
    counts: dict[int, tuple[int, int]] = {}
    for lines in (1, 5):
        data = OrderCreate.model_validate(
            {"customer_email": f"c{lines}@example.com", "external_ref": f"R-{lines}",
             "items": [{"sku": f"S-{n}", "quantity": 2} for n in range(lines)]}
        )  # fmt: skip
        with uow() as u, count_statements(database) as created:
            order, _ = orders.create_order(u, operator, data)
        with uow() as u, count_statements(database) as changed:
            orders.set_status(u, operator, order.id, OrderStatus.PAID)
        counts[lines] = (len(created), len(changed))
    # The create writes its lines in one executemany on both backends (services/order_create).
    assert counts[1] == counts[5], counts
