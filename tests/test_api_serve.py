"""`orderctl serve`: a real uvicorn process on loopback, and its one-line errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from helpers import create_token, create_user
from orderctl.cli.main import app
from orderctl.db import Database
from orderctl.enums import Role


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_runs_the_api(db_url: str, database: Database, config_dir: Path) -> None:
    create_user(database, "srv", Role.VIEWER)
    token = create_token(database, "srv")
    port = _free_port()
    env = {**os.environ, "ORDERCTL_CONFIG_DIR": str(config_dir)}
    env.pop("ORDERCTL_DATABASE_URL", None)
    # One worker: a start-up per core would only slow this test (the default is tested below).
    args = ["--database-url", db_url, "serve", "--port", str(port), "--no-access-log"]
    args += ["--workers", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "orderctl", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        # Generous: a server that fails exits and is seen at once; a slow one (a loaded CI
        # machine running two halves of the suite) is only waited for.
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.communicate(timeout=5)) from None
                time.sleep(0.1)
        assert r.status_code == 200, r.text
        r = httpx.get(f"{base}/api/orders", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}
        r = httpx.get(f"{base}/api/orders")
        assert r.status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "serving the orderctl API" in err
    assert "Traceback" not in err


def _serve(tmp_path: Path, *args: str) -> Result:
    """`orderctl serve ARGS` in-process on a scratch SQLite file (these errors need no backend)."""
    url = f"sqlite:///{tmp_path}/serve.db"
    return CliRunner().invoke(app, ["--database-url", url, "serve", *args], catch_exceptions=False)


@pytest.mark.usefixtures("config_dir")
def test_serve_without_the_api_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = _serve(tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the HTTP API needs the 'api' extra")
    assert "pip install 'orderctl[api]'" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.usefixtures("config_dir")
def test_serve_busy_port_and_bad_values(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _serve(tmp_path, "--port", str(port))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}")
    assert len(result.stderr.splitlines()) == 1
    for args in (["--port", "0"], ["--port", "70000"], ["--port", "http"], ["--workers", "0"]):
        result = _serve(tmp_path, *args)
        assert result.exit_code == 2, (args, result.stderr)
    result = _serve(tmp_path, "--host", "no-such-host.invalid")
    assert result.exit_code == 1 and "cannot listen on" in result.stderr


def test_serve_passes_settings_to_uvicorn_and_warns_on_unmigrated_db(
    empty_db_url: str, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orderctl.cli import serve

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(
        serve, "run_server", lambda target, **kw: calls.append({"target": target, **kw})
    )
    # set (not deleted) so that monkeypatch restores it: `serve` writes the resolved URL here
    monkeypatch.setenv("ORDERCTL_DATABASE_URL", "sqlite:///overridden-by-the-flag.db")
    port = _free_port()
    result = CliRunner().invoke(
        app,
        ["--database-url", empty_db_url, "serve", "--port", str(port), "--workers", "3"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr and "/healthz answers 503" in result.stderr
    assert len(calls) == 1
    call = calls[0]
    assert call["target"] == "orderctl.api.app:app_from_environment" and call["factory"] is True
    assert (call["host"], call["port"], call["workers"]) == ("127.0.0.1", port, 3)
    # the workers read the resolved URL (the flag) from the environment
    assert os.environ["ORDERCTL_DATABASE_URL"].split("://")[1] == empty_db_url.split("://")[1]


def test_serve_runs_a_worker_per_core_by_default_one_on_sqlite(
    db_url: str, backend: str, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orderctl.cli import serve

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(serve, "run_server", lambda target, **kw: calls.append(kw))
    monkeypatch.setattr(serve, "cpu_cores", lambda: 3)
    monkeypatch.setenv("ORDERCTL_DATABASE_URL", db_url)  # restored afterwards; serve sets it
    port = _free_port()
    args = ["--database-url", db_url, "serve", "--port", str(port)]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    expected = 1 if backend == "sqlite" else 3
    assert [call["workers"] for call in calls] == [expected]
    plural = "s" if expected > 1 else ""
    assert result.stderr.rstrip().endswith(
        f"on http://127.0.0.1:{port} ({expected} worker{plural})"
    )
    result = CliRunner().invoke(app, [*args, "--workers", "2"], catch_exceptions=False)
    assert result.exit_code == 0 and calls[-1]["workers"] == 2


def test_cpu_cores_follows_the_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    from orderctl.cli import serve

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5}, raising=False)
    assert serve.cpu_cores() == 2
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    assert serve.cpu_cores() == 7


@pytest.mark.postgresql
def test_a_server_keeps_the_connections_of_twenty_requests_at_once(pg_db_url: str) -> None:
    """The app's pool keeps 20 PostgreSQL connections open: twenty requests at once each
    return theirs to the pool instead of closing it (SQLAlchemy's default kept 5, so at eight
    requests at once about one in ten opened a new connection: docs/performance.md)."""
    from orderctl.api.app import POOL_SIZE, create_app
    from orderctl.config import Settings

    app = create_app(Settings(database_url=pg_db_url))
    engine = app.state.database.engine
    try:
        held = [engine.connect() for _ in range(POOL_SIZE)]
        for connection in held:
            connection.close()
        assert engine.pool.checkedin() == POOL_SIZE == 20
    finally:
        engine.dispose()


def test_several_workers_answer_keep_alive_requests_without_nagles_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With `--workers N` the listener is uvicorn's, made with proto 0, and asyncio then left
    Nagle's algorithm on for every connection: each keep-alive request after the first
    waited ~40 ms for the client's delayed ACK (uvicorn issue #3149). `run_server` hands the
    workers a listener whose accepted connections get TCP_NODELAY."""
    import asyncio

    import uvicorn.supervisors

    from orderctl.cli import serve

    handed: list[socket.socket] = []

    class Supervisor:
        def __init__(self, config: object, sockets: list[socket.socket]) -> None:
            handed.extend(sockets)

        def run(self) -> None:
            pass

    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", Supervisor)
    serve.run_server("orderctl.api.app:app_from_environment", factory=True, host="127.0.0.1",
                     port=_free_port(), workers=2)  # fmt: skip
    (listener,) = handed

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            value = await asyncio.wait_for(seen, 10)
            writer.close()
            return value

    try:
        assert asyncio.run(accepted_nodelay()) != 0
    finally:
        listener.close()
