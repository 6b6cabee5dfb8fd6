"""The login cache file: modes, keys per database, and every way it can be broken."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from helpers import PASSWORD, Cli, login
from orderctl import credentials
from orderctl.credentials import cache_key, cached_login, load_token, remove_token, save_token
from orderctl.services.access import Actor


def test_file_is_0600_in_a_0700_folder(config_dir: Path) -> None:
    path = save_token("sqlite:////tmp/a.db", "oct_secret", "alice")
    assert path == config_dir / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    # A folder made too open by someone else is tightened; the file is replaced, not edited.
    os.chmod(config_dir, 0o755)
    path.chmod(0o644)
    save_token("sqlite:////tmp/b.db", "oct_other", "bob")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert [p.name for p in config_dir.iterdir()] == ["credentials.json"]  # no temp files left


def test_one_entry_per_database(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pg = "postgresql+psycopg://shop:hunter2@db.example:5432/shop"
    save_token(pg, "oct_pg", "alice")
    save_token("postgresql+psycopg://shop:other@db.example:5432/staging", "oct_stage", "alice")
    monkeypatch.chdir(config_dir)
    save_token("sqlite:///local.db", "oct_local", "bob")
    text = (config_dir / "credentials.json").read_text()
    assert "hunter2" not in text and "other@" not in text
    assert cache_key(pg) == "postgresql://shop@db.example:5432/shop"
    # The same SQLite file is the same login, however it is spelt.
    assert cache_key(f"sqlite:///{config_dir}/local.db") == cache_key("sqlite:///local.db")
    assert cache_key("sqlite:///./sub/../local.db") == cache_key("sqlite:///local.db")

    found = cached_login(f"sqlite:///{config_dir}/local.db")
    assert found is not None and found.token == "oct_local" and found.username == "bob"
    assert load_token(pg) == credentials.CachedToken("oct_pg", "credentials file", "alice")
    # The password in the URL does not matter for the key.
    assert cached_login("postgresql+psycopg://shop:changed@db.example:5432/shop") is not None

    monkeypatch.setenv("ORDERCTL_TOKEN", " oct_env \n")
    assert load_token(pg) == credentials.CachedToken("oct_env", "ORDERCTL_TOKEN")
    assert cached_login(pg) is not None  # logout still sees the cached login

    assert remove_token(pg) is True and remove_token(pg) is False
    assert cached_login("postgresql+psycopg://shop@db.example:5432/staging") is not None


BROKEN_FILES: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("whitespace", b"  \n"),
    ("truncated", b'{"version": 1, "logins": {"sqlite:///x": {"tok'),
    ("not json", b"token = oct_abc\n"),
    ("binary", b"\x00\xff\xfe\x89PNG\r\n"),
    ("a list", b"[1, 2, 3]"),
    ("a string", b'"oct_abc"'),
    ("null", b"null"),
    ("logins is a list", b'{"logins": ["oct_abc"]}'),
    ("no logins", b'{"version": 1}'),
    ("entry is a string", b'{"logins": {"KEY": "oct_abc"}}'),
    ("token is a number", b'{"logins": {"KEY": {"token": 12345}}}'),
    ("token is empty", b'{"logins": {"KEY": {"token": ""}}}'),
    ("token is garbage", b'{"logins": {"KEY": {"token": "not-a-token"}}}'),
    ("token is unknown", b'{"logins": {"KEY": {"token": "oct_unknownunknownunknown"}}}'),
    ("deep nesting", b"[" * 100_000),
]


def test_broken_cache_means_not_logged_in_and_login_repairs_it(
    cli: Cli, admin: Actor, config_dir: Path
) -> None:
    path = config_dir / "credentials.json"
    key = cache_key(cli.database.url).encode()
    for label, content in BROKEN_FILES:
        config_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.replace(b"KEY", key))
        result = cli("auth", "status", role=None)
        assert result.exit_code == 3, (label, result.stderr)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, label
        assert "orderctl auth login" in result.stderr, label
        assert "Traceback" not in result.stderr
        assert login(cli).exit_code == 0, label
        assert cli("auth", "status", role=None).exit_code == 0, label
        assert json.loads(path.read_text())["logins"][key.decode()]["username"] == "test-admin"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_folder_in_place_of_the_file(cli: Cli, admin: Actor, config_dir: Path) -> None:
    (config_dir / "credentials.json").mkdir(parents=True)
    result = cli("auth", "status", role=None)
    assert result.exit_code == 3 and "orderctl auth login" in result.stderr
    login = cli(
        "auth", "login", "-u", "test-admin", "--password-stdin", role=None,
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert login.exit_code == 1
    assert login.stderr.startswith("error: cannot write credentials file")
    assert login.stderr.count("\n") == 1


def test_missing_file_is_not_logged_in(cli: Cli, admin: Actor, config_dir: Path) -> None:
    assert not (config_dir / "credentials.json").exists()
    result = cli("auth", "status", role=None)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: not logged in to ")
    assert "orderctl auth login" in result.stderr
