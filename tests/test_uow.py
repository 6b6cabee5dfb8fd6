"""The unit of work's two faces, the ORM session and the Core connection (services/uow.py):
one transaction whichever is used first, committed or rolled back together."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, text

from orderctl.db import Database
from orderctl.errors import DatabaseBusy
from orderctl.models import Product
from orderctl.services.uow import UnitOfWork
from orderctl.tables import products


def _skus(database: Database) -> list[str]:
    with UnitOfWork(database, write=False) as u:
        return list(u.connection().execute(select(products.c.sku).order_by(products.c.sku)))


def _add_both(u: UnitOfWork) -> None:
    """A product through the Core connection, then one through the ORM session."""
    u.connection().execute(insert(products).values(sku="CORE-1", name="Core", unit_price=1))
    u.session.add(Product(sku="ORM-1", name="Orm", unit_price=Decimal("2.00")))
    u.session.flush()
    # The session sees what the connection wrote: the same transaction.
    assert u.session.scalar(select(func.count()).select_from(products)) == 2


def test_connection_then_session_commit_together(database: Database) -> None:
    with UnitOfWork(database) as u:
        _add_both(u)
        u.commit()
    assert [row[0] for row in _skus(database)] == ["CORE-1", "ORM-1"]


def test_connection_then_session_roll_back_together(database: Database) -> None:
    with UnitOfWork(database) as u:
        _add_both(u)  # no commit: leaving the unit rolls back both
    assert _skus(database) == []
    with pytest.raises(RuntimeError), UnitOfWork(database) as u:
        _add_both(u)
        raise RuntimeError("an error inside the unit")
    assert _skus(database) == []


def test_a_connection_after_the_session_is_the_sessions(database: Database) -> None:
    with UnitOfWork(database, write=False) as u:
        session_connection = u.session.connection()
        assert u.connection() is session_connection


def test_the_core_face_of_a_writer_takes_the_write_lock_at_begin(
    database: Database, backend: str
) -> None:
    """On SQLite a write unit's own connection begins with BEGIN IMMEDIATE, as its session
    would: a second writer that does not wait is refused while the first is open."""
    if backend != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's")
    with UnitOfWork(database) as held:
        held.connection().execute(select(1))
        with pytest.raises(DatabaseBusy), UnitOfWork(database, wait=False) as other:
            other.connection().execute(select(1))
    with UnitOfWork(database, wait=False) as after:  # released when `held` ended
        after.connection().execute(select(1))


def test_a_writer_that_does_not_wait_gives_up_on_a_held_row_lock(
    database: Database, backend: str
) -> None:
    """On PostgreSQL a unit with `wait=False` gives up on a row lock held by another
    transaction (`DatabaseBusy`, after its 100 ms lock_timeout) instead of queueing behind it;
    a unit that waits (its engine has no such setting) still queues. The holder lets go after
    a few seconds whatever happens, so a broken setting fails here rather than hanging."""
    if backend == "sqlite":
        pytest.skip("SQLite's no-wait writer is refused at BEGIN IMMEDIATE (test above)")
    with UnitOfWork(database) as setup:
        setup.connection().execute(text("CREATE TABLE lock_probe (id int PRIMARY KEY)"))
        setup.connection().execute(text("INSERT INTO lock_probe VALUES (1)"))
        setup.commit()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT id FROM lock_probe WHERE id = 1 FOR UPDATE"))
            held.set()
            release.wait(5)
            conn.rollback()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(DatabaseBusy), UnitOfWork(database, wait=False) as u:
            u.connection().execute(text("UPDATE lock_probe SET id = 1 WHERE id = 1"))
        assert time.monotonic() - started < 3
        with UnitOfWork(database) as u:  # the plain writer's engine sets no lock timeout
            timeout = u.connection().execute(text("SHOW lock_timeout")).scalar()
        assert timeout == "0"
    finally:
        release.set()
        holder.join(10)
