"""`orderctl serve` warns when it listens beyond loopback (plain HTTP, §11) and logs to stderr.
uvicorn.run is replaced: no server is started."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from orderctl.cli.main import app
from orderctl.cli.serve import exposure_warning


@pytest.mark.parametrize(
    ("host", "addresses", "warns"),
    [
        ("127.0.0.1", ["127.0.0.1"], False),
        ("localhost", ["127.0.0.1", "::1"], False),
        ("127.0.0.2", ["127.0.0.2"], False),
        ("::1", ["::1"], False),
        ("0.0.0.0", ["0.0.0.0"], True),
        ("::", ["::"], True),
        ("192.168.1.10", ["192.168.1.10"], True),
        ("shop.example", ["127.0.0.1", "203.0.113.7"], True),  # one exposed address is enough
        ("fe80::1%eth0", ["fe80::1%eth0"], True),
        ("odd", [], True),
    ],
)
def test_exposure_warning(host: str, addresses: list[str], warns: bool) -> None:
    text = exposure_warning(host, addresses)
    if not warns:
        assert text is None
    else:
        assert text is not None and host in text and "put a TLS proxy in front" in text


def _serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Any, str]:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append(kw))
    monkeypatch.setenv("ORDERCTL_DATABASE_URL", "sqlite:///restored-by-monkeypatch.db")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"sqlite:///{tmp_path}/serve.db"
    result = CliRunner().invoke(
        app, ["--database-url", url, "serve", "--port", str(port), *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and len(calls) == 1
    return calls[0], result.stderr


@pytest.mark.usefixtures("config_dir")
def test_serve_warns_beyond_loopback_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, err = _serve(tmp_path, monkeypatch, "--host", "0.0.0.0")
    warnings = [line for line in err.splitlines() if "TLS proxy" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: listening on 0.0.0.0")
    _, err = _serve(tmp_path, monkeypatch)
    assert "TLS proxy" not in err and "serving the orderctl API" in err


@pytest.mark.usefixtures("config_dir")
def test_serve_logs_to_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    call, _ = _serve(tmp_path, monkeypatch)
    handlers = call["log_config"]["handlers"]
    assert {"default", "access"} <= set(handlers)
    assert {h["stream"] for h in handlers.values()} == {"ext://sys.stderr"}
