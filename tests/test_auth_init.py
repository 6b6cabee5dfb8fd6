"""`orderctl init` (first admin) and terminal prompts for passwords and usernames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from helpers import Cli
from orderctl.cli.main import app
from orderctl.db import Database
from orderctl.services import schema
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

pytestmark = pytest.mark.pgbouncer


def run(url: str, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        app, ["--database-url", url, *args], input=input, catch_exceptions=False
    )


def untouched(url: str) -> bool:
    """True when the database still has no schema at all."""
    db = Database(url)
    try:
        return schema.current(db) is None
    finally:
        db.dispose()


def usernames(url: str) -> list[str]:
    db = Database(url)
    try:
        with UnitOfWork(db, write=False) as u:
            return [x.username for x in u.users.list()]
    finally:
        db.dispose()


@pytest.mark.usefixtures("config_dir")
def test_init_refuses_bad_input_before_changing_anything(empty_db_url: str) -> None:
    for args, stdin, code, needle in [
        (["init", "--password-stdin"], "", 2, "no password on stdin"),
        (["init", "--password-stdin"], "\n", 2, "no password on stdin"),
        (["init"], "s3cret-pass\n", 2, "--password-stdin"),
        (["init", "--password-stdin"], "short\n", 6, "at least 8"),
        (["init", "--admin-username", "x'; DROP TABLE users;--", "--password-stdin"],
         "s3cret-pass\n", 6, "not a valid username"),
        (["init", "--admin-username", "", "--password-stdin"], "s3cret-pass\n", 6, "username"),
        (["init", "--admin-username", "a" * 65, "--password-stdin"], "s3cret-pass\n", 6,
         "username"),
    ]:  # fmt: skip
        result = run(empty_db_url, *args, input=stdin)
        assert result.exit_code == code, (args, result.stderr)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        assert needle in result.stderr, (args, result.stderr)
        assert untouched(empty_db_url), args


@pytest.mark.usefixtures("config_dir")
def test_init_with_password_stdin_then_login_and_rerun(empty_db_url: str) -> None:
    made = run(
        empty_db_url, "init", "--admin-username", "root", "--password-stdin", input="s3cret-pass\n"
    )
    assert made.exit_code == 0, made.stderr
    assert "created admin 'root'" in made.stderr and made.stdout == ""
    assert usernames(empty_db_url) == ["root"]
    login = run(
        empty_db_url, "auth", "login", "-u", "root", "--password-stdin", input="s3cret-pass\n"
    )
    assert login.exit_code == 0, login.stderr
    # Running again is harmless: no password needed, no second admin.
    again = run(empty_db_url, "init", "--admin-username", "other")
    assert again.exit_code == 0 and "no admin created" in again.stderr
    assert usernames(empty_db_url) == ["root"]


@pytest.mark.usefixtures("config_dir", "terminal")
def test_init_prompts_twice_on_a_terminal(empty_db_url: str) -> None:
    # A mismatch is asked again; the confirmed password is the one stored.
    result = run(
        empty_db_url, "init", input="first-pass-1\nother-pass-2\nfinal-pass-3\nfinal-pass-3\n"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("Admin password") >= 2
    assert "do not match" in result.stderr
    assert usernames(empty_db_url) == ["admin"]
    ok = run(
        empty_db_url, "auth", "login", "-u", "admin", "--password-stdin", input="final-pass-3\n"
    )
    assert ok.exit_code == 0, ok.stderr


@pytest.mark.usefixtures("terminal")
def test_login_and_users_prompt_on_a_terminal(cli: Cli, admin: Actor, config_dir: Path) -> None:
    result = cli("auth", "login", role=None, input="test-admin\ncorrect horse 1\n")
    assert result.exit_code == 0, result.stderr
    assert "Username" in result.stderr and "Password" in result.stderr
    made = cli(
        "users", "create", "ivy", "--role", "viewer", "-o", "json",
        input="ivy-password\nivy-password\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["username"] == "ivy"
    again = cli("auth", "login", "-u", "ivy", role=None, input="ivy-password\n")
    assert again.exit_code == 0, again.stderr
