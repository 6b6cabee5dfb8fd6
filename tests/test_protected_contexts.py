"""A protected context (DESIGN.md §17, §18): every destructive command asks for the context's
name to be typed, even with --yes; with no terminal it refuses (exit 2) unless
`--yes --context NAME` on its own command line names it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from helpers import create_user, database_snapshot, one_error, rows
from orderctl.enums import Role

if TYPE_CHECKING:
    from helpers import Cli
    from orderctl.db import Database

# The rule lives in cli/confirm.py, above the storage: one backend shows it.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

NAME_PROMPT = b"type its name to continue"
#: The database comes from the context, as it would for a person using contexts.
NO_URL: dict[str, str | None] = {"ORDERCTL_DATABASE_URL": None}


@pytest.fixture
def prod(cli: Cli, database: Database) -> Cli:
    """`cli` whose database is the protected context `prod` (and the current one), with a
    user `victim` to disable; the admin's token made first, so snapshots compare."""
    cli.token(Role.ADMIN)
    create_user(database, "victim", Role.VIEWER)
    for args in (
        ("context", "add", "prod", "--database-url", cli.db_url, "--protect"),
        ("context", "use", "prod"),
    ):
        assert cli(*args, role=None).exit_code == 0
    return cli


def active(database: Database) -> bool:
    return bool(rows(database, "SELECT active FROM users WHERE username = 'victim'")[0][0])


def test_on_a_terminal_the_right_name_goes_ahead_even_with_yes(
    prod: Cli, database: Database
) -> None:
    run = prod.on_terminal(
        "users", "disable", "victim", "--yes", answer="prod", prompt=NAME_PROMPT, env=NO_URL
    )
    assert run.asked, run.output
    assert "Context prod is protected" in run.output and "will disable user victim" in run.output
    assert run.exit_code == 0, run.output
    assert not active(database)


@pytest.mark.parametrize("answer", ["production", "PROD", None])
def test_on_a_terminal_a_wrong_name_changes_nothing(
    prod: Cli, database: Database, answer: str | None
) -> None:
    before = database_snapshot(database)
    run = prod.on_terminal(
        "users", "disable", "victim", answer=answer, prompt=NAME_PROMPT, env=NO_URL
    )
    assert run.asked, run.output
    assert run.exit_code == 1, run.output
    assert "error: aborted: that is not 'prod'; nothing was changed" in run.output
    assert database_snapshot(database) == before


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("users", "disable", "victim", "--yes"), {}),  # chosen by `context use`
        (("users", "disable", "victim", "--yes"), {"ORDERCTL_CONTEXT": "prod"}),
        (("--context", "prod", "users", "disable", "victim"), {}),  # no --yes
    ],
)
def test_with_no_terminal_it_refuses_unless_the_command_line_names_it(
    prod: Cli, database: Database, args: tuple[str, ...], env: dict[str, str | None]
) -> None:
    before = database_snapshot(database)
    line = one_error(prod(*args, env={**NO_URL, **env}), 2, "context prod is protected")
    assert "needs --yes --context prod" in line and "nothing was changed" in line
    assert database_snapshot(database) == before


def test_yes_and_context_on_the_command_line_go_ahead(prod: Cli, database: Database) -> None:
    result = prod("--context", "prod", "users", "disable", "victim", "--yes", env=NO_URL)
    assert result.exit_code == 0, result.stderr
    assert "protected context prod, named by --context" in result.stderr
    assert not active(database)


def test_an_unprotected_context_keeps_the_plain_rule(cli: Cli, database: Database) -> None:
    cli.token(Role.ADMIN)
    create_user(database, "victim", Role.VIEWER)
    assert cli("context", "add", "dev", "--database-url", cli.db_url, role=None).exit_code == 0
    assert cli("context", "use", "dev", role=None).exit_code == 0
    result = cli("users", "disable", "victim", "--yes", env=NO_URL)
    assert result.exit_code == 0, result.stderr
    assert not active(database)
