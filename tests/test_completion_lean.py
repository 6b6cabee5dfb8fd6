"""The lean completion path (cli/quick_complete.py): a real `orderctl` process answers a Tab
press for a stored value without typer, SQLAlchemy, Pydantic or Rich, with exactly what the
Typer app answers for the same request, on both backends and in the three shells."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from helpers import Cli, bash_env, seed_orders, unreachable_url, walk_commands
from orderctl.cli.main import app
from orderctl.cli.quick_complete import DYNAMIC, ROOT_FLAGS, ROOT_VALUE_OPTIONS
from orderctl.enums import Role
from orderctl.models import Product
from orderctl.services.uow import UnitOfWork

#: What the lean path must not import (a Tab press would pay for them).
HEAVY = ("typer", "click", "sqlalchemy", "pydantic", "rich", "alembic")

_PROBE = """
import json, os, sys
from orderctl.cli.quick_complete import answer
code = answer(os.environ)
sys.stdout.flush()
sys.__stderr__.write("\\nPROBE " + json.dumps([code, sorted(sys.modules)]) + "\\n")
"""


def _lean(env: dict[str, str]) -> tuple[int | None, str, set[str]]:
    """The lean path's exit code (None: it left the request to the app), output and the
    modules it loaded, in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("PROBE "))
    code, modules = json.loads(line.removeprefix("PROBE "))
    assert proc.stderr.strip() == line, proc.stderr  # nothing else on stderr
    return code, proc.stdout, set(modules)


def _protocols(words: list[str]) -> list[dict[str, str]]:
    """The request of each shell's script for a Tab press after `orderctl WORDS` (the last
    word is being typed)."""
    line = " ".join(["orderctl", *words])
    typer_args = {"_TYPER_COMPLETE_ARGS": line + (" " if words[-1] == "" else "")}
    return [
        bash_env(words),
        {"_ORDERCTL_COMPLETE": "complete_zsh", **typer_args},
        {"_ORDERCTL_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
        | typer_args,
        {"_ORDERCTL_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "is-args"}
        | typer_args,
    ]


def _shop(cli: Cli) -> None:
    seed_orders(cli.database, 12)
    with UnitOfWork(cli.database) as u:
        for sku in ("WIDGET-1", "WIDGET-2", "WIDE-9"):
            u.products.add(Product(sku=sku, name=sku.title(), unit_price=Decimal("1.00")))
        u.commit()
    cli.token(Role.VIEWER)
    for name in ("prod", "prod-eu", "staging"):
        assert cli("context", "add", name, "--database-url", cli.db_url).exit_code == 0


def _same_answer(cli: Cli, words: list[str], role: Role | None, env: dict[str, str]) -> None:
    """Each shell's request answered by the lean path in a real process, light and as the
    Typer app answers it in-process."""
    base = cli.subprocess_env(Role.ADMIN)
    base["ORDERCTL_TOKEN"] = cli.token(role) if role is not None else ""
    for protocol in _protocols(words):
        code, out, modules = _lean({**base, **env, **protocol})
        assert code is not None, (words, protocol)  # answered, not left to the app
        loaded = [m for m in modules if m.split(".")[0] in HEAVY]
        assert loaded == [], (words, loaded)
        full = cli(role=role, env={**env, **protocol})
        assert (code, out) == (full.exit_code, full.stdout), (words, protocol)
        assert full.stderr == ""


CASES: list[tuple[list[str], Role | None]] = [
    (["products", "show", "WID"], Role.ADMIN),
    (["products", "show", ""], Role.VIEWER),
    (["orders", "create", "--item", "WIDGET-"], Role.ADMIN),
    (["orders", "create", "--customer", "a@x", "--item", "WIDE"], Role.ADMIN),
    (["orders", "create", "--item", "WIDGET-1:"], Role.ADMIN),
    (["orders", "list", "--customer", "LI"], Role.VIEWER),
    (["orders", "list", "--customer=k"], Role.VIEWER),
    (["orders", "show", "SEED-000"], Role.VIEWER),
    (["orders", "set-status", "SEED-001"], Role.ADMIN),
    (["orders", "history", "--ref", "SEED-001"], Role.ADMIN),
    (["customers", "show", ""], Role.ADMIN),
    (["users", "disable", "test-"], Role.ADMIN),
    (["users", "disable", "test-"], Role.VIEWER),  # not an admin: nothing
    (["auth", "token", "create", "--user", "test-v"], Role.ADMIN),
    (["--debug", "context", "use", "pr"], None),
    (["--context", "st"], None),
    (["products", "show", "WID"], None),  # logged out: nothing
    (["nothing", "matches"], Role.ADMIN),
]


@pytest.mark.parametrize(("words", "role"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_the_lean_path_answers_as_the_app(
    cli: Cli, words: list[str], role: Role | None, request: pytest.FixtureRequest
) -> None:
    if words == ["nothing", "matches"]:  # a command without stored values: left to the app
        env = {**cli.subprocess_env(Role.ADMIN), **bash_env(["orders", "list", "--st"])}
        assert _lean(env)[0] is None
        return
    _shop(cli)
    _same_answer(cli, words, role, {})


def test_the_lean_path_reads_the_flags_and_finds_nothing_offline(
    cli: Cli, backend: str, tmp_path: Path
) -> None:
    _shop(cli)
    elsewhere = {"ORDERCTL_DATABASE_URL": f"sqlite:///{tmp_path}/elsewhere.db"}
    flag = ["--database-url", cli.db_url]
    _same_answer(cli, [*flag, "products", "show", "W"], Role.ADMIN, elsewhere)
    _same_answer(cli, ["--context", "prod", "products", "show", "W"], Role.ADMIN, elsewhere)
    # Offline, a missing SQLite file (not created), a token this database does not know.
    _same_answer(cli, ["products", "show", "W"], Role.ADMIN, elsewhere)
    assert not (tmp_path / "elsewhere.db").exists()
    unreachable = {"ORDERCTL_DATABASE_URL": unreachable_url(backend, tmp_path)}
    _same_answer(cli, ["products", "show", "W"], Role.ADMIN, unreachable)
    assert list(tmp_path.glob("no*")) == []
    bad_token = {"ORDERCTL_TOKEN": "oct_not-a-token"}
    _same_answer(cli, ["products", "show", "W"], None, bad_token)


def _completer_of(param: Any) -> str | None:
    """The name of the `cli/completion.py` completer typer attached to a parameter."""
    wrapper = getattr(param, "_custom_shell_complete", None)
    if wrapper is None:
        return None
    found = [
        cell.cell_contents.__name__
        for cell in wrapper.__closure__ or ()
        if getattr(cell.cell_contents, "__module__", "") == "orderctl.cli.completion"
    ]
    assert len(found) == 1, (param.name, found)  # typer wraps the function it was given
    return found[0]


def test_the_lean_table_is_the_apps() -> None:
    """`DYNAMIC` names every parameter the app completes from stored values, and nothing
    else; the root's options are those the lean path skips."""
    derived: dict[tuple[str, ...], tuple[dict[str, str], tuple[str | None, ...]]] = {}
    root = get_command(app)
    for path, command in walk_commands(root):
        options = {}
        for param in command.params:
            name = _completer_of(param)
            if name is not None and param.param_type_name == "option":
                assert param.nargs == 1 and len(param.opts) == 1, param.opts
                options[param.opts[0]] = name
        arguments = tuple(
            _completer_of(p) for p in command.params if p.param_type_name == "argument"
        )
        if options or any(arguments):
            assert all(p.nargs == 1 for p in command.params if p.param_type_name == "argument")
            derived[tuple(path)] = (options, arguments)
    assert derived == DYNAMIC
    values = {o for p in root.params if not getattr(p, "is_flag", True) for o in p.opts}
    assert values == set(ROOT_VALUE_OPTIONS)
    flags = {o for p in root.params if getattr(p, "is_flag", False) for o in p.opts}
    assert set(ROOT_FLAGS) <= flags | {"-h", "--help"}
