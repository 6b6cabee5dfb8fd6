"""A `db copy` killed with SIGKILL mid-way leaves the target empty, and running it again copies
everything (DESIGN.md §14; docs/database.md, *An interrupted copy*).

The real `orderctl` runs in a subprocess into a PostgreSQL target on which the test holds a
SHARE lock on `orders`: reads pass, so the copy checks the target and writes the tables before
`orders`, then waits on its INSERT into `orders` — a known point, seen in pg_stat_activity.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from helpers import ORDERCTL, Cli, database_snapshot, fill_shop
from orderctl.config import normalize_database_url
from orderctl.db import Database
from orderctl.enums import Role

WAITING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO orders %'"
)
ALIVE = "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"


def test_sigkill_mid_copy_then_rerun(
    cli: Cli, database: Database, tmp_path: Path, new_db_url: Callable[..., str]
) -> None:
    fill_shop(cli, database, tmp_path)
    target_url = new_db_url("postgresql")
    engine = create_engine(normalize_database_url(target_url))
    watcher = create_engine(normalize_database_url(target_url), isolation_level="AUTOCOMMIT")
    cmd = [str(ORDERCTL), "db", "copy", "--to", target_url]
    env = cli.subprocess_env(Role.ADMIN)
    try:
        with engine.connect() as held, watcher.connect() as watch:
            held.execute(text("LOCK TABLE orders IN SHARE MODE"))
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 60
                while (backend := watch.scalar(text(WAITING))) is None:
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, "the copy never reached orders"
                    time.sleep(0.01)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.communicate()
            assert proc.returncode == -signal.SIGKILL
            held.rollback()  # the lock goes; the dead copy's server process ends
            while watch.scalar(text(ALIVE), {"pid": backend}):
                assert time.monotonic() < deadline + 30, "the killed copy's backend lives on"
                time.sleep(0.01)
    finally:
        engine.dispose()
        watcher.dispose()

    into = Database(target_url)
    try:
        assert all(rows == [] for rows in database_snapshot(into).values())
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert rerun.stderr.endswith("row counts and checksums match\n"), rerun.stderr
        assert database_snapshot(into, portable=True) == database_snapshot(database, portable=True)
    finally:
        into.dispose()
