"""Following events (DESIGN.md §16): no committed event missed or handed out twice, also when
two writers commit out of id order, a writer rolls back, or an import is half committed.

The interleavings are forced: writer A does its work and is held right before its commit
(`HeldCommitUow`), and the follower is checked after reads that began after each commit
(`Follower.settle`), never after a sleep.
PostgreSQL: while A holds event id n, writer B commits n+1; a follower that handed out n+1
now and moved past it would never hand out n. SQLite: B cannot even begin to write while A
holds the write lock (proved with a writer that gives up at once), so ids commit in order.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from helpers import FOLLOW_WAIT, ORDER_CSV_HEADER, Follower, HeldCommitUow, Shop, ago, rows
from orderctl.db import Database
from orderctl.enums import OrderStatus
from orderctl.errors import DatabaseBusy
from orderctl.services import import_reader, imports, orders
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork


def _last_event_id(database: Database) -> int:
    return int(rows(database, "SELECT coalesce(max(id), 0) FROM order_events")[0][0])


def _event_ids(database: Database) -> list[int]:
    return [int(row[0]) for row in rows(database, "SELECT id FROM order_events ORDER BY id")]


class _HeldAfterInsert(HeldCommitUow):
    """`HeldCommitUow` that writes its rows first: its event ids are taken, then it is held."""

    def commit(self) -> None:
        self.session.flush()
        super().commit()


class _HeldRollbackUow(HeldCommitUow):
    """Writes its rows (taking their ids), is held like `HeldCommitUow`, then rolls back."""

    def commit(self) -> None:
        self.session.flush()
        self.ready.set()
        assert self.release.wait(FOLLOW_WAIT)
        raise RuntimeError("rolled back on purpose")


@contextmanager
def _held(work: Callable[[UnitOfWork], Any], uow: HeldCommitUow) -> Iterator[None]:
    """Run `work(uow)` in a thread; the block runs while it is held before its commit."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with uow as u:
                work(u)
        except RuntimeError:
            pass  # _HeldRollbackUow's way out
        except BaseException as exc:  # reported by the test thread
            failure.append(exc)
            uow.ready.set()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert uow.ready.wait(FOLLOW_WAIT) and not failure, failure
        yield
    finally:
        uow.release.set()
        thread.join(FOLLOW_WAIT)
    assert not failure, failure


def _writer_b(backend: str, database: Database, commit: Callable[[], None]) -> threading.Thread:
    """Writer B while A is held: on PostgreSQL it commits at once (its event id is above A's);
    on SQLite it must wait for A's write lock, so it runs in a thread joined after A."""
    if backend == "sqlite":
        with pytest.raises(DatabaseBusy), UnitOfWork(database, wait=False) as u:
            u.session.execute(select(1))  # A holds the write lock: no writer may begin
    thread = threading.Thread(target=commit)
    thread.start()
    if backend == "postgresql":
        thread.join(FOLLOW_WAIT)
    return thread


def _set_status(database: Database, actor: Actor, order_id: int, status: str) -> None:
    with UnitOfWork(database) as u:
        orders.set_status(u, actor, order_id, OrderStatus(status))


def _a_held_while_b_commits(
    backend: str, database: Database, operator: Actor, viewer: Actor, held: HeldCommitUow
) -> tuple[Shop, int, int, list[int]]:
    """Writer A sets order 1 paid in `held` (its event id is taken, then it is held); writer B
    sets order 2 paid meanwhile. While A is held the follower may hand out nothing; afterwards
    it is read until it has handed out what is stored after the start. Returns the shop, the
    two orders and the ids the follower handed out."""
    shop = Shop(database)
    first, second = (shop.order("pending", created=ago(hours=1)) for _ in range(2))
    start = _last_event_id(database)
    with Follower(database, viewer, after=start) as follower:
        with _held(lambda u: orders.set_status(u, operator, first, OrderStatus.PAID), held):
            b = _writer_b(
                backend, database, lambda: _set_status(database, operator, second, "paid")
            )
            follower.settle()
            # PostgreSQL: B's event (id start+2) is committed, A's (start+1) is not yet: a
            # follower going by id alone would hand out start+2 now and never start+1.
            assert follower.ids == []
        b.join(FOLLOW_WAIT)
        stored = [i for i in _event_ids(database) if i > start]
        follower.wait_until(lambda: len(follower.ids) >= len(stored))
        follower.settle()
    return shop, first, second, follower.ids


def test_two_writers_committing_out_of_id_order(
    backend: str, database: Database, operator: Actor, viewer: Actor
) -> None:
    held = _HeldAfterInsert(database, threading.Event(), threading.Event())
    _, _, _, ids = _a_held_while_b_commits(backend, database, operator, viewer, held)
    start = _event_ids(database)[-3]
    assert ids == [start + 1, start + 2]  # A's event, then B's, each once
    assert _event_ids(database)[-2:] == ids


def test_a_writer_that_rolls_back_is_never_waited_for(
    backend: str, database: Database, operator: Actor, viewer: Actor
) -> None:
    held = _HeldRollbackUow(database, threading.Event(), threading.Event())
    shop, first, second, ids = _a_held_while_b_commits(backend, database, operator, viewer, held)
    assert ids == [_event_ids(database)[-1]]  # B's event only, once
    assert [e.action for e in shop.events(first)] == ["created"]  # A left nothing
    assert shop.status(second) == "paid"


def test_a_follower_started_in_the_middle_of_an_import(
    backend: str, database: Database, operator: Actor, viewer: Actor, import_shop: Any
) -> None:
    lines = [
        f"I-{n},c{n}@example.com,,paid,EUR,2026-11-02T09:15:00Z,,MUG-01,1,12.50\n" for n in range(6)
    ]
    shop = Shop(database)  # before the import holds SQLite's write lock
    importer_done = threading.Event()
    second_batch, release = threading.Event(), threading.Event()
    commits = {"n": 0}

    class ImportUow(UnitOfWork):
        def commit(self) -> None:
            commits["n"] += 1
            if commits["n"] == 2:  # the first batch is committed, the second written and held
                second_batch.set()
                assert release.wait(FOLLOW_WAIT)
            super().commit()

    failure: list[BaseException] = []

    def run_import() -> None:
        try:
            _, raw = import_reader.read_orders(
                io.BytesIO((ORDER_CSV_HEADER + "".join(lines)).encode()), "csv", warn=print
            )
            with ImportUow(database) as u:
                imports.import_orders(
                    u, operator, raw, is_csv=True, source="mid.csv", default_currency="EUR",
                    on_error="skip", batch_size=2, fork=False,
                )  # fmt: skip
        except BaseException as exc:  # reported by the test thread
            failure.append(exc)
            second_batch.set()
        finally:
            importer_done.set()

    importer = threading.Thread(target=run_import)
    importer.start()
    try:
        assert second_batch.wait(FOLLOW_WAIT) and not failure, failure
        committed = _event_ids(database)
        assert len(committed) == 2  # the first batch's two `imported` events
        with Follower(database, viewer) as follower:  # no cursor: starts with the last events
            assert follower.ids == committed
            if backend == "postgresql":  # a later writer commits while the import is held
                later = shop.order("pending", created=ago(hours=1))
                _set_status(database, operator, later, "paid")
            follower.settle()
            if backend == "postgresql":  # the import's held ids come before that one
                assert follower.ids == committed
            release.set()
            importer.join(FOLLOW_WAIT)
            assert not failure, failure
            stored = _event_ids(database)
            follower.wait_until(lambda: len(follower.ids) >= len(stored))
            follower.settle()
        assert sorted(follower.ids) == stored
        assert len(set(follower.ids)) == len(follower.ids)
    finally:
        release.set()
        importer.join(FOLLOW_WAIT)


def test_an_older_transaction_committing_a_later_id(
    backend: str, database: Database, operator: Actor, viewer: Actor
) -> None:
    """T1 writes first (its transaction id is older) but takes its event id last, after T0
    took one and stayed open. T1's event may be handed out at once; T0's smaller id must still
    come after it, not be skipped by a cursor that moved past it (PostgreSQL only: on SQLite
    T0 could not write while T1 holds the write lock)."""
    if backend == "sqlite":
        pytest.skip("one writer at a time: T0 cannot write while T1 is open")
    shop = Shop(database)
    first, second = (shop.order("pending", created=ago(hours=1)) for _ in range(2))
    start = _last_event_id(database)
    with Follower(database, viewer, after=start) as follower:
        # T1's status UPDATE runs now; its event is inserted only when it commits.
        older = HeldCommitUow(database, threading.Event(), threading.Event())
        newer = _HeldAfterInsert(database, threading.Event(), threading.Event())
        t1 = _held(lambda u: orders.set_status(u, operator, first, OrderStatus.PAID), older)
        t0 = _held(lambda u: orders.set_status(u, operator, second, OrderStatus.PAID), newer)
        with t1, t0:  # T1 begins (and writes its UPDATE) first, T0 ends first
            older.release.set()  # T1 inserts start+2 and commits; T0 holds start+1
            follower.wait_until(lambda: len(follower.ids) >= 1)
            follower.settle()
            assert follower.ids == [start + 2]
        follower.wait_until(lambda: len(follower.ids) >= 2)
        follower.settle()
    assert follower.ids == [start + 2, start + 1]
