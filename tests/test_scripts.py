"""scripts/run-tests never goes green without PostgreSQL: a server that does not start or
cannot be reached stops it with an error before lint or pytest run. Driven with a stand-in
scripts/test-postgres and stand-in tools in a throwaway copy, so no real run is started."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def _executable(path: Path, body: str) -> None:
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of scripts/run-tests with a venv whose ruff, mypy and pytest only log their
    call (`calls`); its python runs the real one for anything but `-m pytest`."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "run-tests", tmp_path / "scripts" / "run-tests")
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    log = tmp_path / "calls"
    for tool in ("ruff", "mypy"):
        _executable(bin_dir / tool, f'echo {tool} >> "{log}"\n')
    _executable(
        bin_dir / "python",
        f'if [ "$1" = -m ]; then echo "pytest $3 PG_REQUIRED=$ORDERCTL_TEST_POSTGRES_REQUIRED'
        f' server=${{ORDERCTL_TEST_POSTGRES_URL:+named}}" >> "{log}"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n',
    )
    # PgBouncer in front of the server: a stand-in that only logs and names itself.
    _executable(
        tmp_path / "scripts" / "test-pgbouncer",
        f'echo "pgbouncer $1" >> "{log}"\n'
        'if [ "$1" = start ]; then echo "export ORDERCTL_TEST_PGBOUNCER_URL=postgresql://b"; fi\n',
    )
    return tmp_path


def _fake_test_postgres(checkout: Path, start: str) -> None:
    log = checkout / "calls"
    _executable(
        checkout / "scripts" / "test-postgres",
        f'if [ "$1" = stop ]; then echo stop >> "{log}"; exit 0; fi\n{start}\n',
    )


def _run_tests(checkout: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ORDERCTL_TEST_")}
    environ.pop("CI", None)  # a local run: where pytest alone would skip PostgreSQL cases
    environ.update(VENV=str(checkout / "venv"), **env)
    return subprocess.run(
        [str(checkout / "scripts" / "run-tests"), "-q"],
        capture_output=True, text=True, env=environ, timeout=120, check=False,
    )  # fmt: skip


def _calls(checkout: Path) -> list[str]:
    log = checkout / "calls"
    return log.read_text().splitlines() if log.exists() else []


def test_a_server_that_does_not_start_stops_the_run(checkout: Path) -> None:
    _fake_test_postgres(checkout, 'echo "initdb: error: could not create directory" >&2; exit 1')
    result = _run_tests(checkout)
    assert result.returncode == 1, result.stderr
    assert "initdb: error: could not create directory" in result.stderr
    assert "run-tests: could not start a PostgreSQL server" in result.stderr
    # No lint, no pytest, and no `stop`: a server that start refused to replace is not ours.
    assert _calls(checkout) == []


def test_a_server_that_cannot_be_reached_stops_the_run(checkout: Path) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{_free_port()}/postgres"  # nobody listens
    _fake_test_postgres(checkout, f'echo "export ORDERCTL_TEST_POSTGRES_URL={dead}"')
    result = _run_tests(checkout)
    assert result.returncode == 1, result.stderr
    assert "run-tests: cannot connect to the PostgreSQL server" in result.stderr
    assert "Traceback" not in result.stderr
    assert _calls(checkout) == ["stop"]
    # The same for a server given from outside.
    (checkout / "calls").unlink()
    result = _run_tests(checkout, ORDERCTL_TEST_POSTGRES_URL=dead)
    assert result.returncode == 1 and "cannot connect" in result.stderr, result.stderr
    assert _calls(checkout) == []


@pytest.mark.postgresql
def test_a_server_that_started_runs_everything_and_requires_postgresql(checkout: Path) -> None:
    url = os.environ.get("ORDERCTL_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("needs a running server: ORDERCTL_TEST_POSTGRES_URL")
    _fake_test_postgres(checkout, f'echo "export ORDERCTL_TEST_POSTGRES_URL={url}"')
    result = _run_tests(checkout)
    assert result.returncode == 0, result.stderr
    calls = _calls(checkout)
    assert calls[:4] + calls[6:] == [
        "pgbouncer start",
        "ruff",
        "ruff",
        "mypy",
        "pgbouncer stop",
        "stop",
    ]
    # The two halves at once (in either order), the rest without a server to reach.
    assert sorted(calls[4:6]) == [
        "pytest --half=postgresql PG_REQUIRED=1 server=named",
        "pytest --half=rest PG_REQUIRED=1 server=",
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _test_postgres(command: str, port: int, base: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PGTEST_PORT": str(port), "PGTEST_DIR": base}
    return subprocess.run(
        [str(ROOT / "scripts" / "test-postgres"), command],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.skipif(not PG_BIN, reason="no PostgreSQL server binaries (would install them)")
def test_test_postgres_start_refuses_a_live_server_and_a_taken_port() -> None:
    """The real script, on a port of its own: a second start in the same directory leaves the
    running server alone (on a shared machine it may be someone else's); a start
    on the port that server holds fails with the server's log, and prints nothing to eval."""
    port = _free_port()
    tag = uuid.uuid4().hex[:8]
    first, second = f"/tmp/orderctl-pg-live-{tag}", f"/tmp/orderctl-pg-taken-{tag}"
    try:
        started = _test_postgres("start", port, first)
        assert started.returncode == 0, started.stderr
        pid = (Path(first) / "data" / "postmaster.pid").read_text().split()[0]

        again = _test_postgres("start", port, first)
        assert again.returncode == 1 and again.stdout == ""
        assert "a server is already running in" in again.stderr, again.stderr
        assert (Path(first) / "data" / "postmaster.pid").read_text().split()[0] == pid

        taken = _test_postgres("start", port, second)
        assert taken.returncode == 1 and taken.stdout == "", taken.stderr
        assert "could not bind" in taken.stderr or "in use" in taken.stderr, taken.stderr
    finally:
        for base in (first, second):
            _test_postgres("stop", port, base)
    assert not Path(first).exists() and not Path(second).exists()
