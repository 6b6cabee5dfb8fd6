"""Maintenance jobs under concurrency: the job lock across real processes, SIGKILL, an
interrupted run, and compare-and-set against a concurrent status change (DESIGN.md §8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from orderctl.db import Database
from orderctl.enums import Role
from orderctl.errors import JobAlreadyRunning
from orderctl.locks import advisory_key, job_lock
from orderctl.models import OrderEvent
from orderctl.repositories.maintenance import MaintenanceRepository
from orderctl.services.uow import UnitOfWork

if TYPE_CHECKING:
    from helpers import Cli

from helpers import ORDERCTL, Shop, ago

pytestmark = pytest.mark.pgbouncer

EXPIRE = ["maintenance", "expire-pending", "--older-than", "1h"]

#: Runs the real CLI in its own process, pausing between batch 1 (committed) and batch 2 — outside
#: any transaction, holding only the job lock — after touching $MARKER.
PAUSING_ORDERCTL = """
import os, sys, time
from pathlib import Path
from orderctl.repositories.maintenance import MaintenanceRepository

original = MaintenanceRepository.pending_ids_before
calls = []

def pausing(self, cutoff, limit):
    calls.append(1)
    if len(calls) == 2:
        Path(os.environ["MARKER"]).write_text("holding the lock")
        time.sleep(120)
    return original(self, cutoff, limit)

MaintenanceRepository.pending_ids_before = pausing
from orderctl.cli.main import run
sys.argv[0] = "orderctl"
run()
"""


@pytest.fixture
def shop(database: Database) -> Shop:
    return Shop(database)


def process_env(cli: Cli, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERCTL_")}
    env.update(
        ORDERCTL_DATABASE_URL=cli.db_url,
        ORDERCTL_CONFIG_DIR=str(cli.config_dir),
        ORDERCTL_TOKEN=cli.token(Role.ADMIN),
        **extra,
    )
    return env


def run(cli: Cli, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ORDERCTL, *args],
        env=process_env(cli, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )


def statuses(shop: Shop, ids: list[int]) -> list[str | None]:
    return [shop.status(i) for i in ids]


def expired_events(database: Database, order_id: int) -> int:
    with UnitOfWork(database) as u:
        stmt = select(OrderEvent.id).where(
            OrderEvent.order_id == order_id, OrderEvent.reason == "expired"
        )
        return len(list(u.session.scalars(stmt)))


def test_second_run_exits_75_at_once_while_the_lock_is_held(
    cli: Cli, shop: Shop, database: Database
) -> None:
    order = shop.order("pending", created=ago(days=5))
    with job_lock(database, "expire-pending"):
        start = time.monotonic()
        busy = run(cli, *EXPIRE)
        assert busy.returncode == 75, busy.stderr
        assert time.monotonic() - start < 15  # no waiting for the lock
        assert busy.stderr.startswith("error: maintenance job 'expire-pending' is already running")
        assert busy.stderr.count("\n") == 1 and busy.stdout == ""
        assert shop.status(order) == "pending"
        # Locks are per job: another job runs meanwhile.
        assert run(cli, "maintenance", "purge-tokens", "-q").returncode == 0
        # A dry run only reads and takes no lock.
        assert run(cli, *EXPIRE, "--dry-run", "-q").returncode == 0
        # The same process cannot take it twice either (a second connection / open file).
        with pytest.raises(JobAlreadyRunning), job_lock(database, "expire-pending"):
            pass
    done = run(cli, *EXPIRE, "-q")
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")
    assert shop.status(order) == "cancelled"


def test_two_processes_and_a_killed_run_leaves_no_stale_lock(
    cli: Cli, shop: Shop, database: Database, tmp_path: Path
) -> None:
    ids = [shop.order("pending", created=ago(days=5, seconds=-n)) for n in range(3)]
    marker = tmp_path / "marker"
    first = subprocess.Popen(
        [sys.executable, "-c", PAUSING_ORDERCTL, *EXPIRE, "--batch-size", "1"],
        env=process_env(cli, MARKER=str(marker)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never reached its second batch"
            time.sleep(0.05)
        second = run(cli, *EXPIRE)
        assert second.returncode == 75, second.stderr
        assert "already running" in second.stderr
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == -signal.SIGKILL
    # The first batch was committed before the kill; nothing else changed.
    assert statuses(shop, ids) == ["cancelled", "pending", "pending"]
    assert shop.stock() == 102
    third = run(cli, *EXPIRE, "-o", "json")
    assert third.returncode == 0, third.stderr
    assert '"orders": 2' in third.stdout
    assert statuses(shop, ids) == ["cancelled"] * 3
    assert shop.stock() == 106
    assert [expired_events(database, i) for i in ids] == [1, 1, 1]


def test_an_interrupted_run_leaves_whole_batches_and_a_rerun_finishes(
    cli: Cli, shop: Shop, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [
        shop.order("pending", created=ago(days=5, seconds=-n), lines=[("TRACK", 1)])
        for n in range(5)
    ]
    original = MaintenanceRepository.add_events
    calls = 0

    def failing(self: MaintenanceRepository, rows: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # batch 3 has cancelled and restocked already: all must roll back
            raise RuntimeError("injected failure")
        original(self, rows)

    monkeypatch.setattr(MaintenanceRepository, "add_events", failing)
    result = cli(*EXPIRE, "--batch-size", "2")
    assert result.exit_code == 1
    assert "RuntimeError: injected failure" in result.stderr
    assert statuses(shop, ids) == ["cancelled"] * 4 + ["pending"]
    assert shop.stock() == 104
    assert [expired_events(database, i) for i in ids] == [1, 1, 1, 1, 0]

    monkeypatch.setattr(MaintenanceRepository, "add_events", original)
    again = cli(*EXPIRE, "--batch-size", "2", "-o", "json")
    assert again.exit_code == 0, again.stderr
    assert '"orders": 1' in again.stdout
    assert statuses(shop, ids) == ["cancelled"] * 5
    assert shop.stock() == 105
    assert [expired_events(database, i) for i in ids] == [1] * 5


def test_an_order_paid_meanwhile_is_not_overwritten(
    cli: Cli, shop: Shop, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch was selected while the order was pending; a concurrent `orders set-status`
    made it paid before the UPDATE ran. The compare-and-set leaves it paid, unrestocked."""
    pending = shop.order("pending", created=ago(days=5))
    paid = shop.order("paid", created=ago(days=5))
    original = MaintenanceRepository.pending_ids_before

    def stale(self: MaintenanceRepository, cutoff: Any, limit: int) -> list[int]:
        found = original(self, cutoff, limit)
        return [*found, paid] if found else found

    monkeypatch.setattr(MaintenanceRepository, "pending_ids_before", stale)
    result = cli(*EXPIRE, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert '"orders": 1' in result.stdout and '"units_restocked": 2' in result.stdout
    assert (shop.status(pending), shop.status(paid)) == ("cancelled", "paid")
    assert shop.stock() == 102
    assert expired_events(database, paid) == 0


def test_lock_keys_and_files_are_stable_per_job(database: Database, backend: str) -> None:
    assert advisory_key("expire-pending") == advisory_key("expire-pending")
    assert advisory_key("expire-pending") != advisory_key("purge-orders")
    assert -(2**63) <= advisory_key("verify") < 2**63
    with job_lock(database, "purge-orders"), job_lock(database, "verify"):
        if backend == "sqlite":
            db_file = database.url.removeprefix("sqlite:///")
            assert Path(f"{db_file}.purge-orders.lock").exists()


def test_an_unusable_lock_file_is_one_error_line(
    cli: Cli, database: Database, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the lock file exists on SQLite only")
    db_file = database.url.removeprefix("sqlite:///")
    Path(f"{db_file}.expire-pending.lock").mkdir()  # a directory cannot be opened for writing
    result = cli(*EXPIRE)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot open lock file ")
    assert result.stderr.count("\n") == 1
