"""Nothing lives on a server connection between transactions (DESIGN.md §19), checked through
a real PgBouncer in transaction pooling mode where it matters most. The suite's other tests
marked `pgbouncer` (init, login, create, list, import, every maintenance job, the one-run lock,
a SIGKILLed job) run through it too; see tests/conftest.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from orderctl import tables
from orderctl.db import Database
from orderctl.services.uow import UnitOfWork

pytestmark = pytest.mark.pgbouncer


def test_one_statement_run_often_by_two_clients_in_turn(db_url: str) -> None:
    """psycopg prepares a statement on its sixth run on a connection, under a name that every
    connection numbers from 0; behind a transaction pooler two clients taking turns share one
    server connection, and the second prepare collides ("prepared statement _pg3_0 already
    exists"). orderctl prepares nothing on the server (db.py, `prepare_threshold`); `orderctl
    demo` through PgBouncer (tests/test_demo.py) failed that way before."""
    clients = [Database(db_url), Database(db_url)]
    query = select(tables.products.c.sku).where(tables.products.c.sku == "NO-SUCH-SKU")
    try:
        for _run in range(8):
            for database in clients:
                with database.engine.begin() as conn:
                    assert conn.execute(query).all() == []
    finally:
        for database in clients:
            database.dispose()


def test_a_job_lock_is_held_by_one_client_while_others_come_and_go(
    database: Database, backend: str
) -> None:
    """A second client cannot take a job's lock while the first holds it, however many
    transactions other clients run meanwhile, and takes it at once after."""
    from orderctl.errors import JobAlreadyRunning
    from orderctl.locks import job_lock

    other = Database(database.url)
    try:
        with job_lock(database, "purge-tokens"):
            for _ in range(5):
                with UnitOfWork(other, write=False) as uow:
                    uow.products.get_by_sku("X")
                with pytest.raises(JobAlreadyRunning), job_lock(other, "purge-tokens"):
                    pass
        with job_lock(other, "purge-tokens"):
            pass
    finally:
        other.dispose()
