"""A hot standby of the test server (DESIGN.md §19): waiting for it to replay, pausing it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url


def plain_url(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it (no `+psycopg` driver part)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def same_database_on(server_url: str, database_url: str) -> str:
    """The URL of `database_url`'s database on another server (the standby)."""
    name = make_url(database_url).database
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def wait_for_replay(primary_url: str, standby_url: str, timeout: float = 60) -> None:
    """Return once the standby has replayed everything the primary has written so far: its
    `pg_last_wal_replay_lsn()` reached the primary's WAL insert position taken now. A
    bounded wait on that condition (AssertionError after `timeout` seconds).

    The insert position, not `pg_current_wal_lsn()` (what is written out): with
    `synchronous_commit=off`, as the test server runs, a commit that has returned may still
    be in WAL buffers past the written position, and the standby would "catch up" without it."""
    with psycopg.connect(plain_url(primary_url), autocommit=True) as primary:
        target = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()
    assert target is not None
    deadline = time.monotonic() + timeout
    with psycopg.connect(plain_url(standby_url), autocommit=True) as standby:
        while True:
            row = standby.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target[0],)
            ).fetchone()
            if row is not None and row[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"standby did not replay up to {target[0]} in {timeout} s")
            time.sleep(0.05)  # polling a condition, with a deadline; not waiting for luck


@contextmanager
def replay_paused(standby_url: str) -> Iterator[None]:
    """Hold the standby's replay (`pg_wal_replay_pause()`), so what the primary writes now
    stays invisible there until the block ends: the lag of a replica, made certain."""
    with psycopg.connect(plain_url(standby_url), autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            while True:  # paused once the startup process has seen the request
                row = standby.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()
                if row is not None and row[0] == "paused":
                    break
                time.sleep(0.01)
            yield
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
