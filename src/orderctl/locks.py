"""One run of a maintenance job at a time (DESIGN.md §8, §19).

PostgreSQL: `pg_try_advisory_xact_lock(key)` in a transaction that a dedicated connection keeps
open for the job's whole run (the job's own short transactions use other connections). The lock
lives and dies with that one transaction, never with a session, which is what makes it hold
behind PgBouncer in transaction pooling mode: a pooler pins a server connection to a client for
the length of a transaction and hands it to anyone between transactions, so a session-level
lock would be taken on one server connection and seen (or released) on another. The open
transaction takes no snapshot after its one statement and no transaction id (it writes
nothing), so it holds back neither VACUUM nor the events follower's snapshot horizon; it does
occupy one server connection while the job runs (docs/scaling.md, *PgBouncer*).

SQLite: `fcntl.flock(LOCK_EX | LOCK_NB)` on `<database file>.<job>.lock`.

A run killed with SIGKILL leaves no stale lock behind: the kernel drops a flock when its
process dies; PostgreSQL ends the transaction (and its lock) when the connection drops, and
PgBouncer closes the server connection of a client that goes away inside a transaction.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from orderctl.db import Database, translate_errors
from orderctl.errors import JobAlreadyRunning, OrderctlError

#: Leading bytes of every orderctl advisory-lock key, so our keys are recognisable in pg_locks.
_KEY_NAMESPACE = "orderctl.maintenance."


def advisory_key(job: str) -> int:
    """A stable signed 64-bit key for a job name (the same in every process and release)."""
    digest = hashlib.sha256((_KEY_NAMESPACE + job).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_file_path(db: Database, job: str) -> Path | None:
    """`<db file>.<job>.lock` for a file-backed SQLite database; None for `:memory:`."""
    database = make_url(db.url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(f"{Path(database).resolve()}.{job}.lock")


def _busy(job: str, where: str) -> JobAlreadyRunning:
    return JobAlreadyRunning(
        f"maintenance job {job!r} is already running on this database ({where}); "
        "try again when it has finished"
    )


@contextmanager
def job_lock(db: Database, job: str) -> Iterator[None]:
    """Hold the job's lock for the `with` block; raise `JobAlreadyRunning` (exit 75) at once
    when another process holds it. `DatabaseUnavailable` (exit 7) when PostgreSQL is down."""
    if db.is_sqlite:
        with _file_lock(db, job):
            yield
    else:
        with _advisory_lock(db, job):
            yield


@contextmanager
def _advisory_lock(db: Database, job: str) -> Iterator[None]:
    key = advisory_key(job)
    with translate_errors(db):
        conn = db.engine.connect()
    try:
        with translate_errors(db):
            transaction = conn.begin()
            # A server's idle-in-transaction timeout would end the run's lock with it.
            conn.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
            got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key})
            if not got.scalar():
                raise _busy(job, f"PostgreSQL advisory lock {key}")
        try:
            yield
        finally:
            try:
                transaction.rollback()  # ends the transaction, and the lock with it
            except Exception:
                # The lock dies with the connection anyway; make sure it is not pooled.
                conn.invalidate()
    finally:
        conn.close()


@contextmanager
def _file_lock(db: Database, job: str) -> Iterator[None]:
    import fcntl

    path = lock_file_path(db, job)
    if path is None:  # an in-memory database belongs to one process: nothing to share
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise OrderctlError(f"cannot open lock file {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(job, f"lock file {path}") from None
        # The pid is only a hint for people; the flock itself is what excludes.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
