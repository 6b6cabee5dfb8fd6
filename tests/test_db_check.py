"""`db check` for deploy scripts and `db current` telling when the database is behind (§10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from helpers import Cli, database_snapshot, unreachable_url
from orderctl.cli.main import app
from orderctl.db import SCHEMA_REVISION
from orderctl.services import schema

LATEST = SCHEMA_REVISION  # the head of the migrations this orderctl ships


def one_error_line(result: Result) -> str:
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_check_passes_at_the_latest_revision_without_a_login(cli: Cli) -> None:
    result = cli("db", "check", role=None)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and f"at revision {LATEST}, the latest" in result.stderr
    current = cli("db", "current", "-o", "json", role=None)
    assert current.exit_code == 0 and current.stderr == ""
    doc = json.loads(current.stdout)
    assert (doc["current"], doc["head"], doc["behind"], doc["up_to_date"]) == (
        LATEST,
        LATEST,
        False,
        True,
    )


def test_a_database_behind_is_named_with_the_command_to_run(cli: Cli) -> None:
    schema.downgrade(cli.database, "0001")
    before = table_contents_at_0001(cli)
    check = cli("db", "check", role=None)
    assert check.exit_code == 7
    line = one_error_line(check)
    assert "at revision 0001" in line and f"needs {LATEST}" in line
    assert "`orderctl db upgrade`" in line

    current = cli("db", "current", "-o", "json", role=None)
    assert current.exit_code == 0, current.stderr  # it reports; `db check` is the test
    doc = json.loads(current.stdout)
    assert (doc["current"], doc["behind"], doc["up_to_date"]) == ("0001", True, False)
    assert current.stderr.startswith("warning: ") and "`orderctl db upgrade`" in current.stderr
    table = cli("db", "current", role=None)
    assert table.exit_code == 0 and "orderctl db upgrade" in table.stderr
    assert table_contents_at_0001(cli) == before  # checking changes nothing


def table_contents_at_0001(cli: Cli) -> list[tuple[str, int]]:
    """Row counts of the tables a 0001 database has (table_contents needs the latest schema)."""
    from sqlalchemy import inspect, text

    with cli.database.engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        return [(n, conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one()) for n in names]


@pytest.mark.usefixtures("config_dir")
def test_check_on_an_empty_database(empty_db_url: str) -> None:
    if empty_db_url.startswith("sqlite:///"):  # an empty file (a missing one: test_database_errors)
        Path(empty_db_url.removeprefix("sqlite:///")).touch()
    result = CliRunner().invoke(app, ["--database-url", empty_db_url, "db", "check"])
    assert result.exit_code == 7
    assert "no orderctl schema" in one_error_line(result)
    assert "`orderctl db upgrade`" in result.stderr
    current = CliRunner().invoke(
        app, ["--database-url", empty_db_url, "db", "current", "-o", "json"]
    )
    assert current.exit_code == 0 and json.loads(current.stdout)["behind"] is True


@pytest.mark.usefixtures("config_dir")
def test_check_on_an_unreachable_database(backend: str, tmp_path: Path) -> None:
    url = unreachable_url(backend, tmp_path)
    result = CliRunner().invoke(app, ["--database-url", url, "db", "check"])
    assert result.exit_code == 7
    assert one_error_line(result).startswith("error: cannot use database")


def test_check_refuses_arguments(cli: Cli) -> None:
    before = database_snapshot(cli.database)
    result = cli("db", "check", "extra", role=None)
    assert result.exit_code == 2 and one_error_line(result)
    assert database_snapshot(cli.database) == before
