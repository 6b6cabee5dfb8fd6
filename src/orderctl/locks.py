"""One run of a maintenance job at a time (DESIGN.md §8).

PostgreSQL: a session-level `pg_try_advisory_lock(key)` on a dedicated autocommit connection,
held for the job's whole run (the job's own short transactions use other connections). SQLite:
`fcntl.flock(LOCK_EX | LOCK_NB)` on `<database file>.<job>.lock`. The server drops an advisory
lock when its connection ends and the kernel drops a flock when its process dies, so a run
killed with SIGKILL leaves no stale lock behind.
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
        conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        with translate_errors(db):
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        if not got:
            raise _busy(job, f"PostgreSQL advisory lock {key}")
        try:
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
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
