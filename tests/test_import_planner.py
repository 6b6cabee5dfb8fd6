"""The import's look-ups on PostgreSQL while the tables fill (docs/performance.md, *Import*).

With statistics that lag the rows an import has written, PostgreSQL answered the look-ups by
key from the trigram GIN indexes (pg_trgm serves equality too) and JIT-compiled them: seconds a
look-up instead of milliseconds. The bulk writer turns bitmap scans (the only scans GIN
serves) and JIT off for each of its transactions, and for nothing else.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from orderctl.db import Database
from orderctl.services.uow import UnitOfWork

SETTINGS = text("SELECT current_setting('enable_bitmapscan'), current_setting('jit')")
PLAN = text("EXPLAIN SELECT id FROM orders WHERE external_ref = ANY(:refs)")


def test_look_ups_use_the_unique_index_not_the_trigram_one(
    backend: str, database: Database
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no planner settings and no trigram GIN index")
    with UnitOfWork(database) as u:
        before = u.session.execute(SETTINGS).one()
        with u.orders.bulk_writer() as writer:
            assert writer.existing_orders(["R-1", "R-2"], "run") == {}
            assert tuple(u.session.execute(SETTINGS).one()) == ("off", "off")
            # Without seq scans (the table is empty) the planner chooses among the indexes.
            u.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(row[0] for row in u.session.execute(PLAN, {"refs": ["R-1", "R-2"]}))
            assert "Index Scan using uq_orders_external_ref" in plan, plan
            u.commit()
            # A new transaction starts with the server's settings, and the writer's first
            # look-up in it makes its own again.
            assert tuple(u.session.execute(SETTINGS).one()) == tuple(before)
            assert writer.catalog(["NOPE"]) == {}
            assert tuple(u.session.execute(SETTINGS).one()) == ("off", "off")
        u.rollback()
    with UnitOfWork(database) as u:  # nothing leaks into other units of work
        assert tuple(u.session.execute(SETTINGS).one()) == tuple(before)
