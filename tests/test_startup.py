"""Start-up stays light: `--help` loads no database stack, SQLite commands never load psycopg,
`orders list` loads no ORM models and no Pydantic."""

from __future__ import annotations

import json
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from helpers import Cli, walk_commands
from orderctl.cli.main import app
from orderctl.enums import Role

HEAVY = ("sqlalchemy.orm", "psycopg", "alembic", "fastapi", "uvicorn", "argon2", "jq")

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


def _run_probe(args: list[str], env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """The modules loaded by `orderctl ARGS` in a fresh interpreter, and its output."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line[len("MODULES ") :])), proc.stdout


def _modules_after(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    return _run_probe(args, env)[0]


def _loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["orders", "--help"]])
def test_help_and_version_import_no_database_stack(args: list[str]) -> None:
    modules = _modules_after(args)
    loaded = [pkg for pkg in HEAVY if _loaded(modules, pkg)]
    assert loaded == []


@pytest.mark.parametrize("args", [["--help"], ["orders", "--help"], ["auth", "token", "--help"]])
def test_help_is_plain_click_help(args: list[str]) -> None:
    """Every level's help is Click's plain text: typer's Rich help costs ~2x `import typer`."""
    modules, stdout = _run_probe(args)
    assert stdout.startswith("Usage: orderctl"), stdout
    assert not _loaded(modules, "typer.rich_utils")


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


def test_unknown_flag_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["--no-such-flag"])
    assert result.exit_code == 2
    assert isinstance(app, typer.Typer)


def _all_params() -> list[tuple[str, Any]]:
    """(command path, parameter) for every option and argument of every command."""
    return [
        (" ".join(("orderctl", *path)), param)
        for path, command in walk_commands(get_command(app))
        for param in command.params
    ]


def _samples(annotation: Any) -> list[Any]:
    leaf = get_args(annotation)[0] if get_origin(annotation) is list else annotation
    values: list[Any] = ["", "x", " 7", "1.5", "-1", "0", "30", "99999999999999999999", "ünï"]
    if isinstance(leaf, type) and issubclass(leaf, Enum):
        for member in leaf:
            values += [member.value, member.value.upper(), member.value.title(), member]
    if get_origin(annotation) is list:
        return [[v] for v in values] + [values[:3], ("x", "y"), []]
    return values


def _outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        return "ok", runtime._coerce_value(value, param=param, ctx=ctx)
    except Exception as exc:  # the error typer shows is its type and message
        return type(exc).__name__, str(exc)


def test_fast_option_values_match_typers_own_on_every_option() -> None:
    """cli/fastparams.py converts plain option types without a TypeAdapter; whatever it
    returns or raises must be exactly what typer's adapter would, for every option."""
    from typer._coercion import build_runtime_param as typers_own

    from orderctl.cli.fastparams import FastParam, build_runtime_param

    fast_count = 0
    for path, param in _all_params():
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None:
            continue
        fast = build_runtime_param(descriptor)
        if not isinstance(fast, FastParam):
            continue
        fast_count += 1
        typer_param = typers_own(descriptor)
        ctx = typer.Context(get_command(app))
        for value in _samples(descriptor.annotation):
            assert _outcome(fast, value, param, ctx) == _outcome(typer_param, value, param, ctx), (
                path,
                param.name,
                value,
            )
    assert fast_count > 50  # the fast path is in use (str, int, enum options)


def test_the_fast_option_path_is_installed() -> None:
    """cli/fastparams.py fails soft on a typer without its hook; on the locked typer it must
    be in use, or `orders list` loses its start-up target unseen (docs/performance.md)."""
    from typer import core

    from orderctl.cli import fastparams

    assert core.build_runtime_param is fastparams.build_runtime_param


def _seeded_viewer_env(cli: Cli, tmp_path: Path, *, orders: int) -> dict[str, str]:
    """The environment of a probe run as a logged-in viewer, on `orders` seeded orders."""
    from helpers import seed_orders

    seed_orders(cli.database, orders)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ORDERCTL_CONFIG_DIR": str(cli.config_dir),
        "ORDERCTL_DATABASE_URL": cli.db_url,
        "ORDERCTL_TOKEN": cli.token(Role.VIEWER),
    }


#: What the listing path must not import: the ORM models and mapper set-up, Pydantic's model
#: machinery and our schemas (about a fifth of `orders list`'s start-up, docs/performance.md),
#: and libjq, which only `--jq` needs.
LISTING_AVOIDS = ("orderctl.models", "orderctl.schemas", "pydantic.main", "argon2", "jq")


def test_orders_list_imports_no_orm_models_and_no_pydantic(cli: Cli, tmp_path: Path) -> None:
    """A logged-in `orders list` (a page with items, a filter, and `--all`) runs on Core
    tables and plain documents, on both backends; `orders show` may load the rest."""
    env = _seeded_viewer_env(cli, tmp_path, orders=3)
    for args in (
        ["orders", "list"],
        ["orders", "list", "--customer", "KOFI@example.com", "--sort", "total", "-o", "json"],
        ["orders", "list", "--all", "-o", "jsonl"],
    ):
        modules, stdout = _run_probe(args, env)
        assert "SEED-" in stdout or "EUR" in stdout, (args, stdout)
        assert [m for m in LISTING_AVOIDS if _loaded(modules, m)] == [], args
    modules, _ = _run_probe(["orders", "show", "1"], env)
    assert _loaded(modules, "orderctl.models")  # the probe can see them when they load
    modules, stdout = _run_probe(["orders", "list", "--json", "id", "--jq", ".[].id"], env)
    assert _loaded(modules, "jq") and "\n1\n" in stdout
    assert not _loaded(modules, "orderctl.models")


#: What the report path must not import: the ORM itself (the unit of work makes its session on
#: first use, and the reports and the token check run on its Core connection), our ORM models,
#: Pydantic (the rows are dataclasses; only the API derives response models from them), and
#: libjq. Start-up was the whole gap to the bare driver on PostgreSQL (docs/performance.md,
#: *Reports*).
REPORT_AVOIDS = (
    "sqlalchemy.orm",
    "orderctl.models",
    "orderctl.schemas",
    "orderctl.report_schemas",
    "pydantic",
    "jq",
)


def test_reports_import_no_orm_and_no_pydantic(cli: Cli, tmp_path: Path) -> None:
    """Each report in a fresh interpreter, logged in (the first run also records the token's
    use, a write), in a pipe and as json/jsonl/csv, on both backends."""
    env = _seeded_viewer_env(cli, tmp_path, orders=6)
    for args, expected in (
        (["report", "status", "-o", "json"], '"status": "pending"'),
        (["report", "sales", "--since", "2020-01-01", "--by", "month", "-o", "csv"], "period,"),
        (["report", "products", "-o", "jsonl"], '"sku": '),
        (["report", "customers"], "@example.com"),
        (["report", "status", "--json", "status,orders"], '"orders": '),
    ):
        modules, stdout = _run_probe(args, env)
        assert expected in stdout, (args, stdout)
        assert [m for m in REPORT_AVOIDS if _loaded(modules, m)] == [], args
    modules, _ = _run_probe(["orders", "show", "1"], env)
    assert _loaded(modules, "sqlalchemy.orm") and _loaded(modules, "pydantic")  # seen if loaded
