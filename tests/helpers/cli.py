"""The real Typer app run against a test database as a given user, and what its output
should look like."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner, Result

from helpers.terminal import PROMPT, TerminalRun, run_on_terminal
from orderctl.cli.main import app
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

#: The password `create_user` gives every test user unless told otherwise.
PASSWORD = "correct horse 1"


def create_user(database: Database, username: str, role: Role, password: str = PASSWORD) -> None:
    """Create a user directly (test set-up, no actor checks)."""
    from orderctl.models import User
    from orderctl.services.auth import hash_password

    with UnitOfWork(database) as u:
        u.users.add(
            User(
                username=username,
                password_hash=hash_password(password),
                role=role.value,
                active=True,
            )
        )
        u.commit()


def create_token(database: Database, username: str) -> str:
    """A login token for an existing user, created through the real login path's helper."""
    from orderctl.services.auth import _issue_token

    with UnitOfWork(database) as u:
        user = u.users.get_one_by_username(username)
        secret, _ = _issue_token(u, user, name="test", ttl=None, created_by="test")
        u.commit()
    return secret


@dataclass
class Cli:
    """Runs the real Typer app against the test database, as a given user."""

    db_url: str
    config_dir: Path
    database: Database
    tokens: dict[Role, str] = field(default_factory=dict)
    runner: CliRunner = field(default_factory=CliRunner)

    def token(self, role: Role) -> str:
        if role not in self.tokens:
            name = f"test-{role.value}"
            create_user(self.database, name, role)
            self.tokens[role] = create_token(self.database, name)
        return self.tokens[role]

    def subprocess_env(self, role: Role) -> dict[str, str]:
        """The environment for a real `orderctl` process on this database, as `role`."""
        env = {
            **os.environ,
            "ORDERCTL_DATABASE_URL": self.db_url,
            "ORDERCTL_CONFIG_DIR": str(self.config_dir),
            "ORDERCTL_TOKEN": self.token(role),
        }
        env.pop("ORDERCTL_DEBUG", None)
        return env

    def actor(self, role: Role) -> Actor:
        self.token(role)
        with UnitOfWork(self.database) as u:
            user = u.users.get_one_by_username(f"test-{role.value}")
            return Actor(user_id=user.id, username=user.username, role=role)

    def __call__(
        self,
        *args: str,
        role: Role | None = Role.ADMIN,
        input: str | bytes | None = None,
        env: dict[str, str | None] | None = None,
    ) -> Result:
        """Invoke `orderctl ARGS` with ORDERCTL_TOKEN for `role` (None: no token); a None
        value in `env` unsets that variable."""
        full_env: dict[str, Any] = {
            "ORDERCTL_DATABASE_URL": self.db_url,
            "ORDERCTL_CONFIG_DIR": str(self.config_dir),
            "ORDERCTL_TOKEN": self.token(role) if role is not None else None,
        }
        full_env.update(env or {})
        return self.runner.invoke(
            app, list(args), input=input, env=full_env, catch_exceptions=False
        )

    def on_terminal(
        self,
        *args: str,
        answer: str | None = None,
        role: Role | None = Role.ADMIN,
        columns: int = 80,
        env: dict[str, str | None] | None = None,
        prompt: bytes = PROMPT,
        measure: bool = False,
    ) -> TerminalRun:
        """Run the installed `orderctl ARGS` on a pseudo-terminal of `columns` columns as
        `role`, typing `answer` at `prompt` (`[y/N]`; `run_on_terminal`; `measure`: its peak
        memory)."""
        full_env: dict[str, str | None] = {
            "ORDERCTL_DATABASE_URL": self.db_url,
            "ORDERCTL_CONFIG_DIR": str(self.config_dir),
            "ORDERCTL_TOKEN": self.token(role) if role is not None else None,
            **(env or {}),
        }
        return run_on_terminal(
            list(args),
            answer=answer,
            env=full_env,
            columns=columns,
            prompt=prompt,
            measure=measure,
        )


def login(
    cli: Cli,
    user: str = "test-admin",
    password: str = PASSWORD,
    *extra: str,
    env: dict[str, str] | None = None,
) -> Result:
    """`orderctl auth login -u USER --password-stdin EXTRA` with no token in the environment,
    typing `password`."""
    return cli(
        "auth",
        "login",
        "-u",
        user,
        "--password-stdin",
        *extra,
        role=None,
        input=password + "\n",
        env=env,
    )


def auth_status(cli: Cli, env: dict[str, str] | None = None) -> Result:
    """`orderctl auth status -o json` with no token in the environment unless `env` sets one."""
    return cli("auth", "status", "-o", "json", role=None, env=env)


def import_orders(cli: Cli, *args: str, input: str | bytes | None = None) -> Result:
    """`orderctl import orders ARGS` as an operator."""
    return cli("import", "orders", *args, role=Role.OPERATOR, input=input)


def one_error(result: Result, code: int | None = None, needle: str = "") -> str:
    """A refused command's stderr, after checking it is exactly one `error: ...` line holding
    `needle` (no traceback, no raw escape sequence), that nothing went to stdout and, when
    given, that it exited `code`.

    Returned whole, newline included, so a test can compare it to the documented message.
    """
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == "", result.stdout
    stderr = result.stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert stderr.endswith("\n"), stderr
    assert needle in stderr, stderr
    assert "\x1b" not in stderr and "\u202e" not in stderr, stderr
    return stderr


def walk_commands(
    command: Any, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, Click command) for a command and all below it, groups built on demand (the
    root's lazy groups included), through Click's public `list_commands`/`get_command`."""
    yield path, command
    if hasattr(command, "list_commands"):
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            yield from walk_commands(command.get_command(ctx, name), (*path, name))
