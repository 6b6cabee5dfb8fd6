"""Start-up stays light: `--help` loads no database stack, SQLite commands never load psycopg."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from orderctl.cli.main import app

HEAVY = ("sqlalchemy.orm", "psycopg", "alembic", "fastapi", "uvicorn", "argon2")

_PROBE = """
import json, sys
sys.argv = ["orderctl", *json.loads(sys.argv[1])]
from orderctl.cli.main import run
try:
    run()
except SystemExit:
    pass
sys.stderr.flush()
sys.__stdout__.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def _modules_after(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line[len("MODULES ") :]))


def _loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["orders", "--help"]])
def test_help_and_version_import_no_database_stack(args: list[str]) -> None:
    modules = _modules_after(args)
    loaded = [pkg for pkg in HEAVY if _loaded(modules, pkg)]
    assert loaded == []


def test_sqlite_commands_never_import_psycopg(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ORDERCTL_CONFIG_DIR": str(tmp_path / "cfg"),
        "ORDERCTL_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
    }
    for args in (["db", "upgrade"], ["orders", "list"], ["config", "show"]):
        modules = _modules_after(args, env)
        assert not _loaded(modules, "psycopg"), args
        assert not _loaded(modules, "fastapi"), args


def _all_commands() -> list[list[str]]:
    root = get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return paths


@pytest.mark.parametrize("path", _all_commands(), ids=lambda p: " ".join(p) or "orderctl")
def test_every_command_has_help(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.stderr
    assert "Usage:" in result.stdout
    # every leaf command documents itself with at least one line of help
    assert len(result.stdout.strip().splitlines()) > 3


def test_unknown_flag_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["--no-such-flag"])
    assert result.exit_code == 2
    assert isinstance(app, typer.Typer)
