"""Foundation: migrations agree with the models, the schema check, the error contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from helpers import unreachable_url
from orderctl.cli.main import app
from orderctl.db import SCHEMA_REVISION, Database
from orderctl.models import Base
from orderctl.services import schema
from orderctl.tables import schema_filters


def test_schema_revision_constant_is_the_alembic_head() -> None:
    assert schema.head_revision() == SCHEMA_REVISION


def test_models_and_migrations_agree(database: Database) -> None:
    with database.engine.connect() as conn:
        opts = {"compare_type": True, **schema_filters(conn.dialect.name)}
        ctx = MigrationContext.configure(conn, opts=opts)
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_upgrade_downgrade_upgrade(empty_db_url: str) -> None:
    db = Database(empty_db_url)
    try:
        assert schema.upgrade(db) == (None, SCHEMA_REVISION)
        assert schema.downgrade(db, "base") == (SCHEMA_REVISION, None)
        with db.engine.connect() as conn:
            tables = set(db.engine.dialect.get_table_names(conn)) - {"alembic_version"}
        assert tables == set()
        assert schema.upgrade(db) == (None, SCHEMA_REVISION)
    finally:
        db.dispose()


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("config_dir")
def test_unmigrated_database_exits_7_naming_upgrade(empty_db_url: str) -> None:
    code, out, err = _run(["--database-url", empty_db_url, "orders", "list"])
    assert code == 7, err
    assert "orderctl db upgrade" in err
    assert err.startswith("error: ")
    assert "Traceback" not in err and out == ""


@pytest.mark.usefixtures("config_dir")
def test_database_down_exits_7(backend: str, tmp_path: Path) -> None:
    url = unreachable_url(backend, tmp_path)
    code, _, err = _run(["--database-url", url, "orders", "list"])
    assert code == 7, err
    assert err.startswith("error: cannot use database") and "Traceback" not in err


@pytest.mark.usefixtures("config_dir")
def test_init_and_db_commands_work_on_an_empty_database(empty_db_url: str) -> None:
    code, _, err = _run(["--database-url", empty_db_url, "db", "current", "-o", "json"])
    assert code == 0, err
    code, _, err = _run(
        ["--database-url", empty_db_url, "init", "--password-stdin"],
    )
    assert code == 2 and "no password on stdin" in err
    result = CliRunner().invoke(
        app, ["--database-url", empty_db_url, "init", "--password-stdin"], input="s3cret-pass\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "created admin 'admin'" in result.stderr
    again = CliRunner().invoke(app, ["--database-url", empty_db_url, "init"])
    assert again.exit_code == 0 and "no admin created" in again.stderr
    code, out, _ = _run(["--database-url", empty_db_url, "db", "current", "-o", "json"])
    assert code == 0 and '"up_to_date": true' in out


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("mysql://root@localhost/shop", "unsupported database URL"),
        ("not a url", "unsupported database URL"),
        ("postgresql+asyncpg://u@h/db", "unsupported PostgreSQL driver"),
        ("sqlite+aiosqlite:///x.db", "unsupported SQLite driver"),
    ],
)
@pytest.mark.usefixtures("config_dir")
def test_bad_database_urls_are_usage_errors(url: str, needle: str) -> None:
    code, _, err = _run(["--database-url", url, "db", "current"])
    assert code == 2, err
    assert needle in err and "Traceback" not in err


def test_config_file_errors(config_dir: Path) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('colour = "blue"\n')
    code, _, err = _run(["config", "show"])
    assert code == 2 and "unknown key 'colour'" in err
    (config_dir / "config.toml").write_text("database_url = \n")
    code, _, err = _run(["config", "show"])
    assert code == 2 and "cannot read config file" in err
    (config_dir / "config.toml").write_bytes(b"\xff\xfe\x00")
    code, _, err = _run(["config", "show"])
    assert code == 2 and "cannot read config file" in err


def test_config_precedence_flag_env_file_default(config_dir: Path, tmp_path: Path) -> None:
    code, out, _ = _run(["config", "show", "-o", "json"])
    assert code == 0 and '"default"' in out
    code, _, err = _run(["config", "set", "database_url", f"sqlite:///{tmp_path}/file.db"])
    assert code == 0, err
    code, out, _ = _run(["config", "show", "-o", "jsonl"])
    assert f"{tmp_path}/file.db" in out and '"config file"' in out
    env = {"ORDERCTL_DATABASE_URL": "postgresql://u:hunter2@db.example/shop"}
    code, out, _ = _run(["config", "show", "-o", "jsonl"], env=env)
    assert "u:***@db.example" in out and "hunter2" not in out and '"env"' in out
    code, out, _ = _run(
        ["--database-url", f"sqlite:///{tmp_path}/flag.db", "config", "show", "-o", "jsonl"],
        env=env,
    )
    assert "flag.db" in out and '"flag"' in out
    code, _, err = _run(["config", "set", "colour", "blue"])
    assert code == 2 and "unknown setting" in err
    code, _, err = _run(["config", "set", "currency", "euro"])
    assert code == 2 and "three-letter" in err


def test_unexpected_errors_are_one_line_unless_debug(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orderctl.services import schema as schema_module

    def boom() -> list[dict[str, str | None]]:
        raise RuntimeError("kaboom\nsecond line")

    monkeypatch.setattr(schema_module, "history", boom)
    code, _, err = _run(["db", "history"])
    assert code == 1
    assert (
        err == "error: unexpected error: RuntimeError: kaboom (for the traceback run "
        "`orderctl --debug db history` or set ORDERCTL_DEBUG=1)\n"
    )
    code, _, err = _run(["--debug", "db", "history"])
    assert code == 1 and "Traceback" in err
    # The hint is this command line with `--debug` in place, a URL's password masked.
    url = "postgresql://app:hunter2@db.example/shop"
    code, _, err = _run(["--database-url", url, "db", "history", "-o", "json"])
    assert err.endswith(
        "(for the traceback run `orderctl --debug --database-url "
        "'postgresql://app:***@db.example/shop' db history -o json` or set ORDERCTL_DEBUG=1)\n"
    )
    assert "hunter2" not in err and err.count("\n") == 1
    code, _, err = _run(["--debug", "--database-url", url, "db", "history", "-o", "json"])
    assert code == 1 and "Traceback" in err


def test_version_and_help() -> None:
    code, out, _ = _run(["--version"])
    assert code == 0 and out.startswith("orderctl ")
    code, out, _ = _run(["--help"])
    assert code == 0 and "orders" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["orders", "list", "--limit", "abc"], "'--limit'"),
        (["orders", "list", "--no-such-flag"], "No such option"),
        (["users", "set-role", "bob", "king"], "'ROLE'"),
        (["orders", "set-status", "1"], "Missing argument"),
    ],
)
@pytest.mark.usefixtures("config_dir")
def test_usage_errors_are_one_error_line_and_exit_2(args: list[str], needle: str) -> None:
    code, out, err = _run(args)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and needle in err
    assert err.count("\n") == 1 and "--help" in err
