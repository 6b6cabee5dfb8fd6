"""Broken database files and URLs (DESIGN.md §9): one `error:` line, exit 7 (2 for a URL that
is not one) with a hint, and nothing created or changed on the way."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from helpers import ORDERCTL, Cli
from orderctl.cli.main import app
from orderctl.db import Database, translate
from orderctl.enums import Role
from orderctl.errors import ConnectionLost, DatabaseUnavailable


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("config_dir")
def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    content = b"id,name\n1,not a database at all\n" * 40
    path.write_bytes(content)
    for args in (["orders", "list"], ["customers", "add", "a@b.co"], ["db", "current"]):
        code, out, err = _run("--database-url", f"sqlite:///{path}", *args)
        assert code == 7, (args, err)
        assert err == (
            f"error: {path} is not an SQLite database; check --database-url or "
            "ORDERCTL_DATABASE_URL (`orderctl config show` says where it comes from)\n"
        )
        assert out == ""
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.db"]


@pytest.mark.usefixtures("config_dir")
def test_read_commands_never_create_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    url = f"sqlite:///{path}"
    for args in (["orders", "list"], ["customers", "list"], ["auth", "status"]):
        code, _, err = _run("--database-url", url, *args)
        assert code == 7, (args, err)
        assert err == (
            f"error: database file {path} does not exist; run `orderctl db upgrade` (or "
            "`orderctl init` on a new database) to create it, or check --database-url or "
            "ORDERCTL_DATABASE_URL\n"
        )
    code, out, err = _run("--database-url", url, "db", "current", "-o", "json")
    assert code == 0, err
    assert '"current": null' in out
    code, _, err = _run("--database-url", url, "db", "downgrade", "base")
    assert code == 7 and "does not exist" in err
    assert list(tmp_path.iterdir()) == []
    code, _, err = _run("--database-url", url, "db", "upgrade")
    assert code == 0, err
    assert path.is_file()  # `db upgrade` (and `init`) do create it


@pytest.mark.usefixtures("config_dir")
@pytest.mark.parametrize("given", ["/srv/shop.db", "./shop.db", "shop.sqlite3"])
def test_a_bare_path_suggests_the_sqlite_url(
    given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("--database-url", given, "orders", "list")
    assert code == 2
    assert err == (
        f"error: database URL {given!r} is a file path, not a URL; for an SQLite file use "
        f"sqlite:///{Path(given)}\n"
    )
    assert out == "" and list(tmp_path.iterdir()) == []
    assert "sqlite:////srv/shop.db" in _run("--database-url", "/srv/shop.db", "init")[2]


def _pg_url(admin_url: str, **parts: object) -> str:
    return make_url(admin_url).set(**parts).render_as_string(hide_password=False)  # type: ignore[arg-type]


@pytest.mark.usefixtures("config_dir")
def test_a_login_the_server_refuses(pg_admin_url: str) -> None:
    url = _pg_url(pg_admin_url, username="nobody_here", password="s3cret-pw")
    code, _, err = _run("--database-url", url, "orders", "list")
    assert code == 7, err
    where = make_url(url).set(drivername="postgresql+psycopg")
    assert err == (
        f"error: the server refused the login to database "
        f'{where.render_as_string(hide_password=True)}: role "nobody_here" does not exist; '
        "check the user name and password in the database URL\n"
    )
    assert "s3cret-pw" not in err


def test_a_wrong_password_names_the_user_and_masks_the_password() -> None:
    """The test server trusts every login, so the driver's error is made here."""
    db = Database("postgresql+psycopg://shop:hunter22@db.example/shop")
    error = psycopg.OperationalError(
        'connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  '
        'password authentication failed for user "shop"'
    )
    mapped = translate(error, db)
    assert isinstance(mapped, DatabaseUnavailable) and mapped.exit_code == 7
    assert mapped.message == (
        "the server refused the login to database postgresql+psycopg://shop:***@db.example/"
        'shop: password authentication failed for user "shop"; check the user name and '
        "password in the database URL"
    )


@pytest.mark.usefixtures("config_dir")
def test_a_server_that_is_down(pg_admin_url: str) -> None:
    url = _pg_url(pg_admin_url, port=1)
    code, _, err = _run("--database-url", url, "orders", "list")
    assert code == 7, err
    assert err.startswith("error: cannot use database ") and err.count("\n") == 1
    assert err.endswith("Connection refused; is the server running, and is the URL right?\n")


def test_a_lost_connection_from_the_driver_is_exit_7() -> None:
    """A driver error that no unit of work wrapped (the bulk import uses psycopg directly)."""
    for error in (
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.OperationalError("consuming input failed: server closed the connection"),
    ):
        mapped = translate(error)
        assert isinstance(mapped, ConnectionLost) and mapped.exit_code == 7, error
        assert mapped.message.startswith("lost the connection to database: ")


def _read_only_runner(folder: Path) -> list[str]:
    """A command prefix under which `folder` is read-only: a read-only bind mount in a private
    mount namespace for root (who ignores permissions), or plain permissions otherwise."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    mount = f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder}"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", mount], capture_output=True, text=True, check=False
    )
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip(f"cannot make a read-only folder as root here: {probe.stderr.strip()}")
    return ["unshare", "-m", "sh", "-c", f'{mount} && exec "$@"', "sh"]


def test_a_database_in_a_read_only_folder(
    cli: Cli, database: Database, db_url: str, backend: str, tmp_path: Path
) -> None:
    """Reads work; a write is exit 7 saying the database is read-only, and changes nothing."""
    if backend != "sqlite":
        pytest.skip("a folder is an SQLite matter")
    cli("customers", "add", "ana@example.com")
    database.dispose()
    folder = Path(db_url.removeprefix("sqlite:///")).parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    prefix = _read_only_runner(folder)
    env = cli.subprocess_env(Role.ADMIN)
    try:

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*prefix, ORDERCTL, *args], env=env, capture_output=True, text=True, timeout=60
            )

        listed = run("customers", "list", "-o", "jsonl")
        assert listed.returncode == 0, listed.stderr
        assert '"ana@example.com"' in listed.stdout
        added = run("customers", "add", "bo@example.com")
        assert added.returncode == 7, added.stderr
        assert added.stderr == (
            f"error: database {db_url} is read-only for this user (attempt to write a readonly "
            "database); commands that write need write permission on the file and its folder\n"
        )
    finally:
        folder.chmod(0o755)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
