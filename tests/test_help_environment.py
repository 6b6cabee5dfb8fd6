"""`orderctl help environment` (§12): every variable the code reads and every config key, with
the precedence; no login, no database. The docs list the same variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from orderctl.cli.main import app
from orderctl.config import ENV_PREFIX, ENVIRONMENT, FILE_KEYS

SRC = Path(__file__).resolve().parents[1] / "src" / "orderctl"
ROOT = SRC.parents[1]
# Named in DESIGN.md §2, §6 and §9; written out here rather than read from the code.
CONTRACT = {
    "ORDERCTL_DATABASE_URL",
    "ORDERCTL_CONFIG_DIR",
    "ORDERCTL_TOKEN",
    "ORDERCTL_CURRENCY",
    "ORDERCTL_DEBUG",
    "NO_COLOR",
    "ORDERCTL_CONTEXT",  # §17
    "ORDERCTL_READ_DATABASE_URL",  # §19
}


def run(*args: str) -> Result:
    # A database that cannot exist: the topic must not need one.
    return CliRunner().invoke(
        app, ["--database-url", "postgresql://nobody@127.0.0.1:1/none", *args]
    )


def variables_read_by_the_code() -> set[str]:
    """Every variable name written in the source, and those built from ENV_PREFIX + key."""
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        names |= set(
            re.findall(r"\"((?:ORDERCTL|XDG)_[A-Z_]+|NO_COLOR|CLICOLOR_FORCE)\"", path.read_text())
        )
    return names | {ENV_PREFIX + key.upper() for key in FILE_KEYS}


@pytest.mark.usefixtures("config_dir")
def test_help_environment_lists_every_variable_and_key_with_precedence() -> None:
    result = run("help", "environment")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    listed = set(re.findall(r"^([A-Z][A-Z_]+)\b", text, re.MULTILINE)) - {"ENVIRONMENT", "CONFIG"}
    assert listed >= CONTRACT
    assert variables_read_by_the_code() <= listed
    precedence = (
        "a command-line flag, then its environment variable, then the context in use "
        "(--context, ORDERCTL_CONTEXT or `orderctl context use`), then its key in the config "
        "file, then the default"
    )
    assert precedence in " ".join(text.split())
    for key in FILE_KEYS:
        assert f"config key {key}" in text
    assert "ORDERCTL_DATABASE_URL  (flag --database-url)  (config key database_url)" in text
    assert "config.toml" in text and "orderctl config unset KEY" in text


@pytest.mark.usefixtures("config_dir")
def test_help_lists_topics_and_refuses_an_unknown_one() -> None:
    topics = run("help")
    assert topics.exit_code == 0 and topics.stdout.startswith("environment ")
    unknown = run("help", "colours")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("error: unknown help topic 'colours'")
    assert unknown.stderr.count("\n") == 1


def test_the_docs_list_the_same_variables() -> None:
    documented = {var.name for var in ENVIRONMENT}
    assert variables_read_by_the_code() <= documented
    readme = (ROOT / "README.md").read_text()
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    for name in documented:
        assert f"`{name}`" in configuration, name
    for name in CONTRACT:
        assert f"`{name}`" in readme, name
