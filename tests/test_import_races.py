"""Imports racing other writers of the same refs, and a connection killed mid-import (DESIGN.md
§7, §9): real `orderctl` processes, forced to overlap by a held transaction or a held lock.

A poll below waits for a state (a process blocked on a lock, a batch committed); nothing
waits for time to pass.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from helpers import ORDER_CSV_HEADER as HEADER
from helpers import ORDERCTL, Cli, HeldCommitUow, child_pids, seed_products
from orderctl import clock
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.schemas import OrderCreate
from orderctl.services import orders
from orderctl.services.uow import UnitOfWork


def _csv(path: Path, refs: range, *, prefix: str = "R-") -> Path:
    """One line per order: MUG-01 × 1 for customer c<n % 7>."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for n in refs:
            fh.write(f"{prefix}{n:03d},c{n % 7}@example.com,,,,,,MUG-01,1,\n")
    return path


def _start(cli: Cli, path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [ORDERCTL, "import", "orders", str(path), "--no-progress", "-o", "json", *args],
        env=cli.subprocess_env(Role.OPERATOR),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, int] | None, str]:
    """(exit code, the JSON summary when one was printed, stderr)."""
    out, err = proc.communicate(timeout=120)
    return proc.returncode, json.loads(out) if out.strip() else None, err


def _until(condition: Callable[[], bool], what: str, procs: list[subprocess.Popen[str]]) -> None:
    """Poll until `condition` holds; fail at once if a process ended first."""
    deadline = time.monotonic() + 60
    while not condition():
        for proc in procs:
            assert proc.poll() is None, (what, proc.communicate())
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def _lock_waiters(database: Database) -> int:
    """Backends of this database blocked on a lock (PostgreSQL)."""
    with database.engine.connect() as conn:
        return int(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


def _blocked(database: Database, procs: list[subprocess.Popen[str]]) -> Callable[[], bool]:
    """Every import is stuck behind the held writer. PostgreSQL shows its waiters; on SQLite an
    import that has forked its reader is at (or before) its first BEGIN IMMEDIATE, which the
    held write lock keeps it from passing, so its look-ups come after the release either way."""
    if database.is_sqlite:
        return lambda: all(child_pids(p.pid) for p in procs)
    return lambda: _lock_waiters(database) >= len(procs)


def _table(database: Database) -> tuple[int, int, int, int]:
    """(orders, orders without exactly 1 item, without exactly 1 event, duplicated refs)."""
    with UnitOfWork(database, write=False) as u:
        s = u.session
        return (
            s.scalar(text("SELECT count(*) FROM orders")) or 0,
            s.scalar(text(
                "SELECT count(*) FROM orders o WHERE "
                "(SELECT count(*) FROM order_items i WHERE i.order_id = o.id) <> 1"
            )) or 0,
            s.scalar(text(
                "SELECT count(*) FROM orders o WHERE "
                "(SELECT count(*) FROM order_events e WHERE e.order_id = o.id) <> 1"
            )) or 0,
            s.scalar(text(
                "SELECT count(*) FROM (SELECT external_ref FROM orders GROUP BY external_ref "
                "HAVING count(*) > 1) d"
            )) or 0,
        )  # fmt: skip


@contextmanager
def _held_create(cli: Cli, database: Database, ref: str, quantity: int) -> Iterator[None]:
    """`orders create` of `ref` (customer c<n % 7>, MUG-01 × quantity), done and held just
    before its commit until the block ends, then committed. The customer is stored first, so
    the held transaction holds the ref only (and MUG-01's stock, which imports never touch)."""
    n = int(ref.split("-")[1])
    with UnitOfWork(database) as u:
        u.customers.ensure(f"c{n % 7}@example.com", None, created_by="test", at=clock.utcnow())
        u.commit()
    data = OrderCreate.model_validate(
        {
            "customer_email": f"c{n % 7}@example.com",
            "external_ref": ref,
            "items": [{"sku": "MUG-01", "quantity": quantity}],
        }
    )
    actor = cli.actor(Role.OPERATOR)
    ready, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def create() -> None:
        try:
            with HeldCommitUow(database, ready, release) as u:
                orders.create_order(u, actor, data)
        except BaseException as exc:  # reported by the test thread
            failure.append(exc)
            ready.set()

    thread = threading.Thread(target=create)
    thread.start()
    try:
        assert ready.wait(30) and not failure, failure
        yield
    finally:
        release.set()
        thread.join(60)
    assert not failure, failure


def _created_by_hand(database: Database, ref: str) -> bool:
    with UnitOfWork(database, write=False) as u:
        order = u.orders.get_by_external_ref(ref, with_events=True)
        assert order is not None
        return [e.action for e in order.events] == ["created"]


@pytest.mark.parametrize("mode", ["skip", "abort"])
@pytest.mark.parametrize("same", [True, False], ids=["same-content", "other-content"])
def test_an_import_racing_orders_create_of_one_ref(
    cli: Cli, database: Database, samples: Path, tmp_path: Path, mode: str, same: bool
) -> None:
    """The create holds R-005 uncommitted while the import runs into it (PostgreSQL: the
    import's write waits on the ref; SQLite: on the write lock); then the create commits."""
    seed_products(database, samples)
    path = _csv(tmp_path / "orders.csv", range(10))
    with _held_create(cli, database, "R-005", quantity=1 if same else 2):
        proc = _start(cli, path, "--on-error", mode)
        _until(_blocked(database, [proc]), "the import waits for the create", [proc])
    code, summary, err = _finish(proc)
    assert "Traceback" not in err and "unexpected" not in err, err
    assert _created_by_hand(database, "R-005")  # the create won, once
    if same:
        assert code == 0, err
        assert summary is not None
        assert (summary["imported"], summary["skipped"], summary["rejected"]) == (9, 1, 0)
        assert _table(database) == (10, 0, 0, 0)
        return
    conflict = (
        "line 7: external_ref 'R-005' is already used by a stored order with different content"
    )
    assert code == 6, err
    if mode == "skip":
        assert summary is not None
        assert (summary["imported"], summary["skipped"], summary["rejected"]) == (9, 0, 1)
        assert f"warning: rejected: {conflict}\n" in err
        assert _table(database) == (10, 0, 0, 0)
    else:
        assert err == f"error: {conflict} (nothing was imported)\n"
        assert _table(database) == (1, 0, 0, 0)


@contextmanager
def _held_writes(db_url: str, database: Database) -> Iterator[None]:
    """Nobody may write orders until the block ends: a SHARE lock on the table (PostgreSQL;
    reads go on) or SQLite's write lock."""
    if database.is_sqlite:
        lite = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        lite.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            lite.execute("ROLLBACK")
            lite.close()
        return
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://", 1)) as pg:
        pg.execute("LOCK TABLE orders IN SHARE MODE")
        yield
        pg.rollback()


@pytest.mark.parametrize("mode", ["skip", "abort"])
def test_two_imports_of_overlapping_files_at_once(
    cli: Cli, database: Database, db_url: str, samples: Path, tmp_path: Path, mode: str
) -> None:
    """Both have looked up their refs (none stored) before either may write; the 30 shared
    orders end up imported once, and the run that came second counts them as skipped."""
    seed_products(database, samples)
    cli.token(Role.OPERATOR)  # made now: the held lock would keep it from being stored
    first = _csv(tmp_path / "first.csv", range(0, 60))
    second = _csv(tmp_path / "second.csv", range(30, 90))
    args = ("--on-error", mode, "--batch-size", "20")
    with _held_writes(db_url, database):
        procs = [_start(cli, first, *args), _start(cli, second, *args)]
        _until(_blocked(database, procs), "both imports wait to write", procs)
    results = [_finish(proc) for proc in procs]
    for code, _, err in results:
        assert code == 0, results
        assert err == "", err
    summaries = [summary for _, summary, _ in results]
    assert all(s is not None for s in summaries)
    assert sum(s["imported"] for s in summaries if s) == 90
    assert sum(s["skipped"] for s in summaries if s) == 30
    assert _table(database) == (90, 0, 0, 0)


def _terminate_waiters(database: Database) -> int:
    with database.engine.connect() as conn:
        killed = conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(killed or 0)


def _orders(database: Database) -> int:
    return _table(database)[0]


@pytest.mark.parametrize("mode", ["skip", "abort"])
def test_a_connection_killed_mid_import_is_exit_7_and_a_rerun_finishes(
    cli: Cli, database: Database, backend: str, samples: Path, tmp_path: Path, mode: str
) -> None:
    """The server ends the import's connection while its second batch waits on a held ref:
    exit 7 saying what is committed; the same command then finishes the job exactly."""
    if backend != "postgresql":
        pytest.skip("a connection to an SQLite file cannot be cut from outside")
    seed_products(database, samples)
    path = _csv(tmp_path / "orders.csv", range(200))
    args = ("--on-error", mode, "--batch-size", "50")
    with _held_create(cli, database, "R-060", quantity=1):
        proc = _start(cli, path, *args)
        if mode == "skip":
            _until(lambda: _orders(database) == 50, "the first batch is committed", [proc])
        _until(lambda: _lock_waiters(database) == 1, "the second batch waits", [proc])
        assert _terminate_waiters(database) == 1
        code, summary, err = _finish(proc)
    assert code == 7, err
    assert summary is None
    if mode == "skip":
        assert err == (
            "error: lost the connection to the database after 50 orders were committed "
            "(1 batch); run the same import again to finish it: committed orders are skipped\n"
        )
    else:
        assert err == (
            "error: lost the connection to the database before anything was committed: "
            "nothing was imported; run the same import again\n"
        )
    assert _orders(database) == (51 if mode == "skip" else 1)  # + the held create
    code, summary, err = _finish(_start(cli, path, *args))
    assert code == 0, err
    assert summary is not None
    done = 50 if mode == "skip" else 0
    assert (summary["imported"], summary["skipped"]) == (199 - done, 1 + done)
    assert _table(database) == (200, 0, 0, 0)
