"""The root command builds its groups on first use (Click's public `get_command` and
`list_commands`), and nobody can tell from the outside: help, suggestions, usage errors."""

from __future__ import annotations

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from orderctl.cli import main
from orderctl.cli.main import app

GROUPS = list(main._GROUPS)


def test_help_lists_every_group_as_the_built_groups_would() -> None:
    """`--help` reads each group's short help without building it; the text is the same as
    once every group is built."""
    root = get_command(app)
    ctx = typer.Context(root, info_name="orderctl")
    lazy = root.get_help(ctx)
    for name in root.list_commands(ctx):
        root.get_command(ctx, name)
    assert root.get_help(ctx) == lazy
    for name in GROUPS:
        assert f"\n  {name} " in lazy, name


def test_help_builds_no_group(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> None:
        raise AssertionError(f"--help built {name}")

    monkeypatch.setattr(main, "_build_group", refuse)
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    assert "maintenance" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ordrs", "list"], "No such command 'ordrs'. Did you mean 'orders'?"),
        (["imprt"], "No such command 'imprt'. Did you mean 'import'?"),
        (["nothing-like-it"], "No such command 'nothing-like-it'."),
        (["orders", "lst"], "No such command 'lst'. Did you mean 'list'?"),
    ],
)
def test_unknown_command_is_one_error_line_suggesting_groups_not_built_yet(
    args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {message} (try 'orderctl{' orders' if args[0] == 'orders' else ''} --help')"
    ]


def test_a_group_with_one_command_stays_a_group() -> None:
    """`import` holds only `orders`; built alone, typer would make the command itself."""
    result = CliRunner().invoke(app, ["import", "--help"])
    assert result.exit_code == 0
    assert "Commands:\n  orders" in result.stdout
    result = CliRunner().invoke(app, ["import", "orders", "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: orderctl import orders [OPTIONS]")


def test_a_group_without_a_command_shows_its_help() -> None:
    result = CliRunner().invoke(app, ["orders"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: orderctl orders [OPTIONS] COMMAND [ARGS]...")
    assert "error:" not in result.stderr


def test_bad_option_value_is_one_error_line() -> None:
    result = CliRunner().invoke(app, ["orders", "list", "--limit", "abc"])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: Invalid value for '--limit'")
    assert line.endswith("(try 'orderctl orders list --help')")
