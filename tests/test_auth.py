"""`orderctl auth` through the real CLI: the login cache, expiry, revocation, lockout
(`auth token` commands: tests/test_auth_tokens.py).

Login tests pass `role=None` so no ORDERCTL_TOKEN is set and the cache file is what counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import (
    PASSWORD,
    Cli,
    auth_status,
    create_user,
    login,
    one_error,
    tokens_in_db,
)
from orderctl import clock
from orderctl.credentials import cache_key
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.services import auth
from orderctl.services.access import Actor


def move_clock(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    """From now on `clock.utcnow()` is the real time plus `delta` (not cumulative)."""
    base = datetime.now(UTC)
    monkeypatch.setattr(clock, "utcnow", lambda: base + delta)


@pytest.mark.pgbouncer
def test_login_use_logout_refused_cycle_with_the_cache_file(
    cli: Cli, admin: Actor, config_dir: Path, db_url: str
) -> None:
    result = login(cli)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "logged in to" in result.stderr and "as test-admin" in result.stderr

    cache = json.loads((config_dir / "credentials.json").read_text())
    secret = cache["logins"][cache_key(cli.database.url)]["token"]
    assert secret.startswith("oct_") and len(secret) >= 4 + 43

    shown = auth_status(cli)
    assert shown.exit_code == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["username"] == "test-admin" and doc["role"] == "admin"
    assert doc["source"] == "credentials file"
    assert doc["credentials_file"] == str(config_dir / "credentials.json")
    assert doc["expires_at"].endswith("Z")

    used = cli("users", "list", "-o", "json", role=None)
    assert used.exit_code == 0, used.stderr

    out = cli("auth", "logout", role=None)
    assert out.exit_code == 0, out.stderr
    assert "logged out test-admin" in out.stderr
    cache = json.loads((config_dir / "credentials.json").read_text())
    assert cache["logins"] == {}
    login_token = next(t for t in tokens_in_db(cli.database) if t.name == "login")
    assert login_token.revoked_at is not None

    refused = auth_status(cli)
    assert refused.exit_code == 3
    assert "not logged in" in one_error(refused)
    assert "orderctl auth login" in refused.stderr
    # The revoked secret is refused wherever it turns up.
    again = auth_status(cli, env={"ORDERCTL_TOKEN": secret})
    assert again.exit_code == 3 and "revoked" in one_error(again)
    twice = cli("auth", "logout", role=None)
    assert twice.exit_code == 3 and "not logged in" in one_error(twice)


def test_two_databases_keep_two_cached_logins(
    cli: Cli, admin: Actor, second_db_url: str, config_dir: Path
) -> None:
    other = Database(second_db_url)
    try:
        create_user(other, "olga", Role.VIEWER)
    finally:
        other.dispose()
    env_b = {"ORDERCTL_DATABASE_URL": second_db_url}
    assert login(cli).exit_code == 0
    assert login(cli, "olga", env=env_b).exit_code == 0

    a = json.loads(auth_status(cli).stdout)
    b = json.loads(auth_status(cli, env=env_b).stdout)
    assert (a["username"], a["role"]) == ("test-admin", "admin")
    assert (b["username"], b["role"]) == ("olga", "viewer")
    assert len(json.loads((config_dir / "credentials.json").read_text())["logins"]) == 2

    assert cli("auth", "logout", role=None, env=env_b).exit_code == 0
    assert auth_status(cli, env=env_b).exit_code == 3
    assert auth_status(cli).exit_code == 0  # database A's login is untouched


def test_token_of_database_a_is_refused_by_database_b(
    cli: Cli, admin: Actor, second_db_url: str
) -> None:
    secret = cli.token(Role.ADMIN)
    result = auth_status(
        cli, env={"ORDERCTL_TOKEN": secret, "ORDERCTL_DATABASE_URL": second_db_url}
    )
    assert result.exit_code == 3
    assert "not known to this database" in one_error(result)


def test_login_token_expires_when_the_clock_moves(
    cli: Cli, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert login(cli, "test-admin", PASSWORD, "--expires", "1h").exit_code == 0
    move_clock(monkeypatch, timedelta(minutes=59))
    assert auth_status(cli).exit_code == 0
    move_clock(monkeypatch, timedelta(hours=1, seconds=1))
    result = auth_status(cli)
    assert result.exit_code == 3
    assert "expired" in one_error(result) and "orderctl auth login" in result.stderr


@pytest.mark.pgbouncer
def test_revocation_is_seen_by_an_already_cached_token(cli: Cli, admin: Actor) -> None:
    assert login(cli).exit_code == 0
    listed = json.loads(cli("auth", "token", "list", "-o", "json", role=None).stdout)
    login_id = next(t["id"] for t in listed if t["name"] == "login")
    # Revoked from elsewhere (the admin's ORDERCTL_TOKEN), not through this cache entry.
    revoked = cli("auth", "token", "revoke", str(login_id), "-o", "json")
    assert revoked.exit_code == 0, revoked.stderr
    assert json.loads(revoked.stdout)["revoked_at"] is not None
    result = auth_status(cli)
    assert result.exit_code == 3 and "revoked" in one_error(result)


def test_disabled_users_tokens_are_refused_at_once(cli: Cli, admin: Actor) -> None:
    create_user(cli.database, "bob", Role.OPERATOR)
    assert login(cli, "bob").exit_code == 0
    assert auth_status(cli).exit_code == 0
    assert cli("users", "disable", "bob", "--yes").exit_code == 0
    refused = auth_status(cli)
    assert refused.exit_code == 3 and "disabled" in one_error(refused)
    again = login(cli, "bob")
    assert again.exit_code == 3 and "disabled" in one_error(again)
    assert cli("users", "enable", "bob").exit_code == 0
    assert auth_status(cli).exit_code == 0


@pytest.mark.pgbouncer
def test_lockout_after_five_failures_and_its_end(
    cli: Cli, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_user(cli.database, "carol", Role.VIEWER)
    unknown = login(cli, "nobody-here", "wrong password")
    assert unknown.exit_code == 3
    for _ in range(5):
        wrong = login(cli, "carol", "wrong password")
        assert wrong.exit_code == 3
        # Unknown user and wrong password read exactly the same.
        assert wrong.stderr == unknown.stderr == f"error: {auth.LOGIN_FAILED}\n"
    locked = login(cli, "carol")  # the right password, but locked now
    assert locked.exit_code == 3 and "locked" in one_error(locked)
    assert [t for t in tokens_in_db(cli.database) if t.name == "login"] == []

    move_clock(monkeypatch, timedelta(minutes=14))
    assert login(cli, "carol").exit_code == 3
    move_clock(monkeypatch, timedelta(minutes=15, seconds=1))
    ok = login(cli, "carol")
    assert ok.exit_code == 0, ok.stderr
    # A success resets the count: four more failures do not lock again.
    for _ in range(4):
        assert login(cli, "carol", "wrong password").exit_code == 3
    assert login(cli, "carol").exit_code == 0


def test_unknown_user_and_wrong_password_cost_the_same(
    cli: Cli, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = auth.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    for user in ("test-admin", "ghost", "x'; DROP TABLE users;--", "a" * 500, "nul\x00"):
        calls.clear()
        result = login(cli, user, "wrong password")
        assert result.exit_code == 3 and result.stderr == f"error: {auth.LOGIN_FAILED}\n"
        assert len(calls) == 1, user  # exactly one argon2 verification either way


def test_status_says_the_token_came_from_the_environment(cli: Cli, admin: Actor) -> None:
    result = cli("auth", "status", "-o", "json", role=Role.ADMIN)
    doc = json.loads(result.stdout)
    assert doc["source"] == "ORDERCTL_TOKEN" and doc["credentials_file"] is None
    table = cli("auth", "status", role=Role.ADMIN)
    assert table.exit_code == 0 and "ORDERCTL_TOKEN" in table.stdout
    # A login while ORDERCTL_TOKEN is set works, but says which token will be used.
    shadowed = login(cli, env={"ORDERCTL_TOKEN": cli.token(Role.ADMIN)})
    assert shadowed.exit_code == 0 and "warning: ORDERCTL_TOKEN is set" in shadowed.stderr
    assert cli("auth", "logout", role=None).exit_code == 0
    # logout ends cached logins only; an automation token in the environment stays valid.
    out = cli("auth", "logout", role=Role.ADMIN)
    assert out.exit_code == 3 and "ORDERCTL_TOKEN is set" in one_error(out)
    assert cli("auth", "status", role=Role.ADMIN).exit_code == 0


def test_logout_with_a_stale_cached_token_cleans_the_cache(
    cli: Cli, admin: Actor, config_dir: Path
) -> None:
    from orderctl.credentials import save_token

    save_token(cli.db_url, "oct_" + "x" * 43, "test-admin")
    assert auth_status(cli).exit_code == 3
    out = cli("auth", "logout", role=None)
    assert out.exit_code == 0 and "unknown to this database" in out.stderr
    assert json.loads((config_dir / "credentials.json").read_text())["logins"] == {}


LOGIN_BAD_INPUT = [
    (["-u", "test-admin", "--password-stdin", "--expires", "30"], PASSWORD, 2, "--expires"),
    (["-u", "test-admin", "--password-stdin", "--expires", "never"], PASSWORD, 2, "duration"),
    (["-u", "test-admin", "--password-stdin", "--expires", "-1d"], PASSWORD, 2, "duration"),
    (["-u", "test-admin", "--password-stdin", "--expires", "0m"], PASSWORD, 6, "longer"),
    (["-u", "test-admin", "--password-stdin"], "", 2, "no password on stdin"),
    (["-u", "test-admin", "--password-stdin"], "\n", 2, "no password on stdin"),
    (["-u", "test-admin"], PASSWORD, 2, "--password-stdin"),
    (["--password-stdin"], PASSWORD, 2, "-u USER"),
    (["-u", "", "--password-stdin"], PASSWORD, 3, "login failed"),
    (["-u", "test-admin\u202e", "--password-stdin"], PASSWORD, 3, "login failed"),
    (["-u", "TEST-ADMIN", "--password-stdin"], PASSWORD, 3, "login failed"),
]


def test_login_bad_input(cli: Cli, admin: Actor) -> None:
    before = len(tokens_in_db(cli.database))
    for args, stdin, code, needle in LOGIN_BAD_INPUT:
        result = cli("auth", "login", *args, role=None, input=stdin)
        assert result.exit_code == code, (args, result.stderr)
        assert needle in one_error(result), args
    assert len(tokens_in_db(cli.database)) == before


def test_password_on_stdin_that_is_not_utf8(cli: Cli, admin: Actor) -> None:
    result = cli(
        "auth", "login", "-u", "test-admin", "--password-stdin", role=None, input=b"\xff\xfe\n"
    )
    assert result.exit_code == 2 and "UTF-8" in one_error(result)


def test_login_to_an_unmigrated_database_exits_7(cli: Cli, empty_db_url: str) -> None:
    result = login(cli, env={"ORDERCTL_DATABASE_URL": empty_db_url})
    assert result.exit_code == 7 and "orderctl db upgrade" in one_error(result)


@pytest.mark.usefixtures("config_dir")
def test_installed_binary_logs_in_and_shows_status(second_db_url: str, tmp_path: Path) -> None:
    """The console script end to end, in its own process (once: SQLite is enough here)."""
    db = Database(second_db_url)
    try:
        create_user(db, "test-admin", Role.ADMIN)
    finally:
        db.dispose()
    db_url = second_db_url
    exe = Path(sys.executable).parent / "orderctl"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ORDERCTL_CONFIG_DIR": str(tmp_path / "cfg"),
        "ORDERCTL_DATABASE_URL": db_url,
    }
    run = subprocess.run(
        [exe, "auth", "login", "-u", "test-admin", "--password-stdin", "--expires", "2h"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and "logged in" in run.stderr
    cfg = tmp_path / "cfg"
    assert (cfg / "credentials.json").stat().st_mode & 0o777 == 0o600
    assert cfg.stat().st_mode & 0o777 == 0o700
    shown = subprocess.run(
        [exe, "auth", "status", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["username"] == "test-admin" and doc["source"] == "credentials file"
    # A truly closed stdin (`<&-`) is a usage error, not a traceback.
    closed = subprocess.run(
        [exe, "auth", "login", "-u", "test-admin", "--password-stdin"],
        stdin=None,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        preexec_fn=lambda: os.close(0),
    )
    assert closed.returncode == 2, closed.stderr
    assert closed.stderr == "error: no password on stdin (expected it on the first line)\n"
