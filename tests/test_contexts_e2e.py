"""Contexts end to end (DESIGN.md §17): two SQLite databases and a PostgreSQL one, each
created, logged in to and filled through its context; switching, and the precedence of
--database-url and ORDERCTL_DATABASE_URL over the context, each way."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from helpers import PASSWORD
from orderctl.cli.main import app


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), env=env, input=input, catch_exceptions=False)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


def skus(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """The SKUs `orderctl ARGS products list` shows."""
    result = run(*args, "products", "list", "-o", "json", env=env)
    return [row["sku"] for row in json.loads(result.stdout)]


def status(*args: str) -> dict[str, str]:
    document: dict[str, str] = json.loads(run(*args, "auth", "status", "-o", "json").stdout)
    return document


def test_three_contexts_each_with_its_database_and_login(
    config_dir: Path, tmp_path: Path, pg_db_url: str
) -> None:
    urls = {
        "a": f"sqlite:///{tmp_path / 'a.db'}",
        "b": f"sqlite:///{tmp_path / 'b.db'}",
        "pg": pg_db_url,
    }
    for name, url in urls.items():
        run("context", "add", name, "--database-url", url)
        run("--context", name, "init", "--admin-username", f"admin-{name}", "--password-stdin",
            input=PASSWORD + "\n")  # fmt: skip

    # One login per context, each chosen a different way: current, --context, ORDERCTL_CONTEXT.
    run("context", "use", "a")
    login = ("auth", "login", "-u")
    run(*login, "admin-a", "--password-stdin", input=PASSWORD + "\n")
    run("--context", "b", *login, "admin-b", "--password-stdin", input=PASSWORD + "\n")
    run(
        *login,
        "admin-pg",
        "--password-stdin",
        input=PASSWORD + "\n",
        env={"ORDERCTL_CONTEXT": "pg"},
    )
    logins = json.loads((config_dir / "credentials.json").read_text())["logins"]
    assert len(logins) == 3
    for name in urls:
        run("--context", name, "products", "add", f"{name.upper()}-1", "--name", name,
            "--price", "1.00")  # fmt: skip

    assert skus() == ["A-1"]
    assert skus("--context", "b") == ["B-1"]
    assert skus(env={"ORDERCTL_CONTEXT": "pg"}) == ["PG-1"]
    assert status()["username"] == "admin-a" and status()["context"] == "a"
    pg_status = status("--context", "pg")
    assert pg_status["username"] == "admin-pg" and pg_status["context"] == "pg"
    assert pg_status["database"].startswith("postgresql")

    run("context", "use", "b")
    assert skus() == ["B-1"] and status()["username"] == "admin-b"
    run("auth", "logout")  # b's login only
    assert status("--context", "a")["username"] == "admin-a"
    assert status("--context", "pg")["username"] == "admin-pg"

    # Flag > environment > context, each way (the login follows the database, not the context).
    assert skus("--context", "a", "--database-url", urls["pg"]) == ["PG-1"]
    assert skus("--context", "pg", env={"ORDERCTL_DATABASE_URL": urls["a"]}) == ["A-1"]
    assert skus("--database-url", urls["a"], env={"ORDERCTL_DATABASE_URL": urls["pg"]}) == ["A-1"]
