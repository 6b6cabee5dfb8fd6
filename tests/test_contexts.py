"""`orderctl context` and the precedence of DESIGN.md §17: flag > environment > the chosen or
current context > config file > default, `config show` naming each source. No database."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from helpers import one_error
from orderctl.cli.main import app

pytestmark = pytest.mark.usefixtures("config_dir")

A_URL = "sqlite:////srv/a.db"
B_URL = "postgresql://app:s3cret@db1/shop"
B_READ = "postgresql://app:s3cret@db2/shop"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def ok(*args: str, env: dict[str, str] | None = None) -> Result:
    result = run(*args, env=env)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def shown(*args: str, env: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """`[ARGS] config show -o json` as {key: (value, source)}."""
    result = ok(*args, "config", "show", "-o", "json", env=env)
    return {row["key"]: (row["value"], row["source"]) for row in json.loads(result.stdout)}


def add_two() -> None:
    ok("context", "add", "a", "--database-url", A_URL)
    ok("context", "add", "b.prod", "--database-url", B_URL, "--read-url", B_READ,
       "--currency", "usd", "--protect")  # fmt: skip


def test_contexts_are_stored_as_documented_and_private(config_dir: Path) -> None:
    add_two()
    ok("context", "use", "b.prod")
    path = config_dir / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The format other tools read (shell completion takes the names from `contexts`).
    assert tomllib.loads(path.read_text()) == {
        "current_context": "b.prod",
        "contexts": {
            "a": {"database_url": A_URL, "protect": False},
            "b.prod": {
                "database_url": B_URL,
                "read_database_url": B_READ,
                "currency": "USD",
                "protect": True,
            },
        },
    }


def test_list_marks_the_current_one_and_masks_passwords() -> None:
    add_two()
    ok("context", "use", "a")
    listed = json.loads(ok("context", "list", "-o", "json").stdout)
    assert [(c["name"], c["current"]) for c in listed] == [("a", True), ("b.prod", False)]
    assert listed[1]["database_url"] == "postgresql://app:***@db1/shop"
    assert listed[1]["read_database_url"] == "postgresql://app:***@db2/shop"
    table = ok("context", "list").stdout
    assert "s3cret" not in table
    assert [line.split()[0] for line in table.splitlines() if "sqlite" in line] == ["*"]


def test_show_names_one_or_the_one_in_use() -> None:
    add_two()
    assert json.loads(ok("context", "show", "b.prod", "-o", "json").stdout) == {
        "name": "b.prod",
        "current": False,
        "database_url": "postgresql://app:***@db1/shop",
        "read_database_url": "postgresql://app:***@db2/shop",
        "currency": "USD",
        "protect": True,
    }
    one_error(run("context", "show"), 2, "no context in use")
    ok("context", "use", "a")
    assert json.loads(ok("context", "show", "-o", "json").stdout)["name"] == "a"
    chosen = ok("--context", "b.prod", "context", "show", "-o", "json").stdout
    assert json.loads(chosen)["name"] == "b.prod"
    by_env = ok("context", "show", "-o", "json", env={"ORDERCTL_CONTEXT": "b.prod"}).stdout
    assert json.loads(by_env)["name"] == "b.prod"


def test_remove_forgets_it_and_the_current_mark() -> None:
    add_two()
    ok("context", "use", "a")
    removed = ok("context", "remove", "a")
    assert "no context is current now" in removed.stderr
    assert [c["name"] for c in json.loads(ok("context", "list", "-o", "json").stdout)] == ["b.prod"]
    assert shown()["context"] == (None, None)


@pytest.mark.parametrize(
    "name", ["", "-x", "..", "a b", "prod;rm", "é", "a/b", "x" * 64, "[x]", "a\nb", "pro\x1bd"]
)
def test_a_name_outside_the_safe_charset_is_refused(config_dir: Path, name: str) -> None:
    ok("context", "add", "a", "--database-url", A_URL)
    before = (config_dir / "config.toml").read_bytes()
    result = run("context", "add", "--database-url", A_URL, "--", name)
    one_error(result, 2, "invalid context name")
    assert (config_dir / "config.toml").read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [
        ("context", "use", "nope"),
        ("context", "show", "nope"),
        ("context", "remove", "nope"),
        ("--context", "nope", "config", "show"),
        ("--context", "nope", "orders", "list"),
    ],
)
def test_an_unknown_name_anywhere_is_exit_2_naming_the_known_ones(
    config_dir: Path, args: tuple[str, ...]
) -> None:
    add_two()
    before = (config_dir / "config.toml").read_bytes()
    one_error(run(*args), 2, "unknown context 'nope' (known: a, b.prod)")
    assert (config_dir / "config.toml").read_bytes() == before
    one_error(run("orders", "list", env={"ORDERCTL_CONTEXT": "nope"}), 2, "known: a, b.prod")


@pytest.mark.parametrize(
    ("extra", "needle", "code"),
    [
        (("--database-url", "mysql://x/y"), "unsupported database URL", 2),
        (("--database-url", A_URL, "--read-url", "/tmp/x.db"), "is a file path", 2),
        (("--database-url", A_URL, "--currency", "EURO"), "three-letter", 2),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    config_dir: Path, extra: tuple[str, ...], needle: str, code: int
) -> None:
    one_error(run("context", "add", "c", *extra), code, needle)
    assert not (config_dir / "config.toml").exists()


def test_adding_a_name_twice_is_a_conflict(config_dir: Path) -> None:
    add_two()
    before = (config_dir / "config.toml").read_bytes()
    one_error(run("context", "add", "a", "--database-url", B_URL), 6, "already exists")
    assert (config_dir / "config.toml").read_bytes() == before


def test_precedence_of_the_database_url_each_way() -> None:
    add_two()
    ok("config", "set", "database_url", "sqlite:////srv/file.db")
    assert shown()["database_url"] == ("sqlite:////srv/file.db", "config file")
    ok("context", "use", "a")
    assert shown()["database_url"] == (A_URL, "context a")
    assert shown()["context"] == ("a", "config file")
    by_env = {"ORDERCTL_CONTEXT": "b.prod"}
    assert shown(env=by_env)["database_url"] == (
        "postgresql+psycopg://app:***@db1/shop",
        "context b.prod",
    )
    assert shown(env=by_env)["context"] == ("b.prod", "env")
    # --context beats ORDERCTL_CONTEXT, which beats the current context.
    assert shown("--context", "a", env=by_env)["context"] == ("a", "flag")
    env_url = {"ORDERCTL_DATABASE_URL": "sqlite:////srv/env.db"}
    assert shown(env=env_url)["database_url"] == ("sqlite:////srv/env.db", "env")
    both = shown("--database-url", "sqlite:////srv/flag.db", env=env_url)
    assert both["database_url"] == ("sqlite:////srv/flag.db", "flag")
    ok("context", "remove", "a")
    assert shown()["database_url"] == ("sqlite:////srv/file.db", "config file")
    ok("config", "unset", "database_url")
    assert shown()["database_url"][1] == "default"


def test_currency_comes_from_the_context_below_the_environment() -> None:
    add_two()
    assert shown("--context", "b.prod")["currency"] == ("USD", "context b.prod")
    env = {"ORDERCTL_CURRENCY": "gbp"}
    assert shown("--context", "b.prod", env=env)["currency"] == ("GBP", "env")
    ok("config", "set", "currency", "CHF")
    assert shown("--context", "a")["currency"] == ("CHF", "config file")


def test_a_read_url_is_only_taken_with_its_own_database() -> None:
    add_two()
    ok("config", "set", "read_database_url", "postgresql://file-replica/shop")
    assert shown()["read_database_url"] == (
        "postgresql+psycopg://file-replica/shop",
        "config file",
    )
    prod = shown("--context", "b.prod")
    assert prod["read_database_url"] == ("postgresql+psycopg://app:***@db2/shop", "context b.prod")
    # Context a has no replica: the file's belongs to the file's database, not to a's.
    assert shown("--context", "a")["read_database_url"] == (None, "default")
    # A one-off --database-url is another database: no replica at all.
    flag = shown("--context", "b.prod", "--database-url", A_URL)
    assert flag["read_database_url"] == (None, "default")
    env = {"ORDERCTL_DATABASE_URL": A_URL, "ORDERCTL_READ_DATABASE_URL": "sqlite:////srv/r.db"}
    assert shown("--context", "b.prod", env=env)["read_database_url"] == (
        "sqlite:////srv/r.db",
        "env",
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("current_context = 3\n", "current_context"),
        ("contexts = 1\n", "not a table"),
        ("[contexts.a]\nprotect = true\n", "database_url must be a string"),
        ('[contexts.a]\ndatabase_url = "sqlite:///x.db"\nprotect = "yes"\n', "true or false"),
        ('[contexts.a]\ndatabase_url = "sqlite:///x.db"\ncolour = "red"\n', "unknown key"),
    ],
)
def test_a_broken_context_table_is_one_error(config_dir: Path, text: str, needle: str) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text(text)
    one_error(run("config", "show"), 2, needle)
    one_error(run("context", "list"), 2, needle)


@pytest.mark.parametrize(
    "url",
    [
        'postgresql://u:p"w\\x@h/db',
        "postgresql://u:p\x7fw@h/db",
        "postgresql://u:pw@h/db?application_name=a#b",
        "sqlite:////srv/ünï cödé.db",
    ],
)
def test_hostile_urls_are_stored_as_given(config_dir: Path, url: str) -> None:
    ok("context", "add", "x", "--database-url", url, "--read-url", url)
    table = tomllib.loads((config_dir / "config.toml").read_text())["contexts"]["x"]
    assert table["database_url"] == url and table["read_database_url"] == url
    assert json.loads(ok("context", "list", "-o", "json").stdout)[0]["name"] == "x"
