"""Commands run with stdin or stdout closed (`<&-`, `>&-`), as the real installed `orderctl`:
a clear one-line error and exit 2 where input was needed, and no "unexpected error"."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from helpers import ORDERCTL, Cli, order_counts, seed_products
from orderctl.db import Database
from orderctl.enums import Role


def _run(
    cli: Cli, db_url: str, args: list[str], closed_fd: int
) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        ORDERCTL_DATABASE_URL=db_url,
        ORDERCTL_TOKEN=cli.token(Role.ADMIN),
        ORDERCTL_CONFIG_DIR=str(cli.config_dir),
    )
    return subprocess.run(
        [ORDERCTL, *args],
        env=env,
        stdin=subprocess.DEVNULL if closed_fd != 0 else None,
        stdout=subprocess.PIPE if closed_fd != 1 else None,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.close(closed_fd),  # start with that stream closed
    )


@pytest.mark.parametrize(
    "args",
    [
        ["import", "orders", "-", "--format", "csv"],
        ["orders", "create", "--from-file", "-"],
        ["products", "import", "-"],
    ],
    ids=["import-orders", "orders-create", "products-import"],
)
def test_reading_a_closed_stdin_is_a_usage_error(
    cli: Cli, database: Database, db_url: str, samples: Path, args: list[str]
) -> None:
    seed_products(database, samples)
    before = order_counts(database)
    done = _run(cli, db_url, args, closed_fd=0)
    assert done.returncode == 2, done.stderr
    assert done.stderr == "error: stdin is closed: pipe the input in, or give a file path\n"
    assert order_counts(database) == before


def test_a_closed_stdout_discards_the_output_not_the_work(
    cli: Cli, database: Database, db_url: str, samples: Path
) -> None:
    seed_products(database, samples)
    path = samples / "orders.csv"
    done = _run(cli, db_url, ["import", "orders", str(path), "-o", "json"], closed_fd=1)
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr
    assert order_counts(database)[0] == 3
    listed = _run(cli, db_url, ["orders", "list", "-o", "json"], closed_fd=1)
    assert (listed.returncode, listed.stderr) == (0, "")
