"""config.toml: `config unset`, its permissions, and empty environment variables (§2, §17)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from helpers import Cli
from orderctl.cli.main import app


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def shown(env: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """`config show -o json` as {key: (value, source)}."""
    result = run("config", "show", "-o", "json", env=env)
    assert result.exit_code == 0, result.stderr
    return {row["key"]: (row["value"], row["source"]) for row in json.loads(result.stdout)}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_unset_removes_a_key_and_an_absent_key_is_harmless(config_dir: Path) -> None:
    assert run("config", "set", "currency", "usd").exit_code == 0
    assert run("config", "set", "database_url", "sqlite:///shop.db").exit_code == 0
    assert shown()["currency"] == ("USD", "config file")

    result = run("config", "unset", "currency")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"removed currency from {config_dir / 'config.toml'}\n"
    assert shown()["currency"] == ("EUR", "default")
    assert (config_dir / "config.toml").read_text() == 'database_url = "sqlite:///shop.db"\n'

    again = run("config", "unset", "currency")
    assert again.exit_code == 0 and "currency is not set" in again.stderr
    assert "nothing to do" in again.stderr
    assert (config_dir / "config.toml").read_text() == 'database_url = "sqlite:///shop.db"\n'


@pytest.mark.parametrize("key", ["colour", "config_dir", "", "CURRENCY"])
def test_unset_of_an_unknown_key_is_a_usage_error(config_dir: Path, key: str) -> None:
    assert run("config", "set", "currency", "USD").exit_code == 0
    before = (config_dir / "config.toml").read_bytes()
    result = run("config", "unset", key)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown setting") and result.stderr.count("\n") == 1
    assert (config_dir / "config.toml").read_bytes() == before


def test_unset_without_a_config_file_writes_none(config_dir: Path) -> None:
    result = run("config", "unset", "database_url")
    assert result.exit_code == 0 and "nothing to do" in result.stderr
    assert not config_dir.exists()


def test_config_file_is_0600_in_a_0700_folder_and_loose_ones_are_tightened(
    config_dir: Path,
) -> None:
    assert run("config", "set", "currency", "USD").exit_code == 0
    path = config_dir / "config.toml"
    assert (mode(path), mode(config_dir)) == (0o600, 0o700)

    path.chmod(0o644)
    config_dir.chmod(0o755)
    assert run("config", "set", "database_url", "postgresql://u:secret@h/db").exit_code == 0
    assert (mode(path), mode(config_dir)) == (0o600, 0o700)

    path.chmod(0o666)
    assert run("config", "unset", "currency").exit_code == 0
    assert mode(path) == 0o600
    assert [p.name for p in config_dir.iterdir()] == ["config.toml"]  # no temporary file left


def test_empty_environment_variables_count_as_unset(config_dir: Path, tmp_path: Path) -> None:
    file_url = f"sqlite:///{tmp_path}/from-file.db"
    assert run("config", "set", "database_url", file_url).exit_code == 0
    assert run("config", "set", "currency", "GBP").exit_code == 0
    settings = shown({"ORDERCTL_DATABASE_URL": "", "ORDERCTL_CURRENCY": " ", "ORDERCTL_DEBUG": ""})
    assert settings["database_url"] == (file_url, "config file")
    assert settings["currency"] == ("GBP", "config file")
    # A set variable still wins over the file.
    assert shown({"ORDERCTL_CURRENCY": "usd"})["currency"] == ("USD", "env")
    assert run("config", "unset", "database_url").exit_code == 0
    assert shown({"ORDERCTL_DATABASE_URL": ""})["database_url"][1] == "default"


def test_an_empty_orderctl_token_is_not_logged_in(cli: Cli) -> None:
    result = cli("orders", "list", role=None, env={"ORDERCTL_TOKEN": ""})
    assert result.exit_code == 3
    assert result.stderr.startswith("error: not logged in") and result.stderr.count("\n") == 1
    assert "orderctl auth login" in result.stderr
