"""An import killed with SIGKILL leaves only whole orders, and running it again finishes the job.

Runs the real `orderctl` executable in a subprocess (DESIGN.md §7, crash safety).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import func, select, text

from helpers import ORDER_CSV_HEADER as HEADER
from helpers import ORDERCTL, Cli, child_pids, seed_products
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import Order
from orderctl.services.uow import UnitOfWork

N_ORDERS = 6000
BATCH = 50


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _order_count(database: Database) -> int:
    with UnitOfWork(database, write=False) as u:
        return u.session.scalar(select(func.count()).select_from(Order)) or 0


def _consistency(database: Database) -> tuple[int, int, int, int]:
    """(orders, orders without exactly 2 items, orders without exactly 1 event, duplicate refs)."""
    with UnitOfWork(database, write=False) as u:
        s = u.session
        orders = s.scalar(text("SELECT count(*) FROM orders")) or 0
        bad_items = s.scalar(text(
            "SELECT count(*) FROM orders o WHERE "
            "(SELECT count(*) FROM order_items i WHERE i.order_id = o.id) <> 2"
        )) or 0  # fmt: skip
        bad_events = s.scalar(text(
            "SELECT count(*) FROM orders o WHERE "
            "(SELECT count(*) FROM order_events e WHERE e.order_id = o.id) <> 1"
        )) or 0  # fmt: skip
        dups = s.scalar(text(
            "SELECT count(*) FROM (SELECT external_ref FROM orders GROUP BY external_ref "
            "HAVING count(*) > 1) d"
        )) or 0  # fmt: skip
    return orders, bad_items, bad_events, dups


def test_sigkill_mid_import_then_rerun_completes_without_duplicates(
    cli: Cli, database: Database, db_url: str, samples: Path, tmp_path: Path
) -> None:
    seed_products(database, samples)
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for n in range(N_ORDERS):
            for sku in ("MUG-01", "CAP-01"):
                fh.write(f"K-{n:05d},c{n % 300}@example.com,C {n % 300},,,,,{sku},1,\n")
    env = dict(
        os.environ,
        ORDERCTL_DATABASE_URL=db_url,
        ORDERCTL_TOKEN=cli.token(Role.OPERATOR),
        ORDERCTL_CONFIG_DIR=str(cli.config_dir),
    )
    cmd = [str(ORDERCTL), "import", "orders", str(path), "--on-error", "skip",
           "--batch-size", str(BATCH), "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _order_count(database) == 0:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no batch committed within 60 s"
            time.sleep(0.005)
        readers = child_pids(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # The forked reading process dies with it (it would otherwise hold the pipes open).
        while readers and any(_alive(pid) for pid in readers):
            assert time.monotonic() < deadline + 10, f"reader {readers} outlived the import"
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    orders, bad_items, bad_events, dups = _consistency(database)
    assert 0 < orders < N_ORDERS, "the kill should land mid-import"
    assert orders % BATCH == 0  # whole batches only
    assert (bad_items, bad_events, dups) == (0, 0, 0)

    rerun = subprocess.run(
        [*cmd, "-o", "json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f'"skipped": {orders}' in rerun.stdout
    assert _consistency(database) == (N_ORDERS, 0, 0, 0)


def test_real_stdin_pipe_through_the_forked_reader(
    cli: Cli, database: Database, db_url: str, samples: Path
) -> None:
    """`producer | orderctl import orders - --format X` as a script runs it: the reading
    process reads the real pipe; an invalid order aborts and leaves no reader behind (one
    left would hold stdout and stderr open, and communicate() would time out)."""
    seed_products(database, samples)
    env = dict(
        os.environ,
        ORDERCTL_DATABASE_URL=db_url,
        ORDERCTL_TOKEN=cli.token(Role.OPERATOR),
        ORDERCTL_CONFIG_DIR=str(cli.config_dir),
    )
    for fmt, orders in (("csv", 3), ("jsonl", 2)):
        data = (samples / f"orders.{fmt}").read_bytes()
        done = subprocess.run(
            [str(ORDERCTL), "import", "orders", "-", "--format", fmt, "-o", "json"],
            input=data, env=env, capture_output=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["imported"] == orders, (fmt, summary)
    bad = HEADER + "".join(f"P-{n},p@example.com,,,,,,MUG-01,1,\n" for n in range(500))
    bad += "P-X,p@example.com,,,,,,MUG-01,zero,\n"
    proc = subprocess.Popen(
        [str(ORDERCTL), "import", "orders", "-", "--format", "csv", "--batch-size", "7"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    _, err = proc.communicate(bad.encode(), timeout=60)
    assert proc.returncode == 6, err
    assert err.decode().startswith("error: line 502: quantity:"), err
    assert _order_count(database) == 5  # nothing of the aborted file
