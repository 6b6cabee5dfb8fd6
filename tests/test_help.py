"""Every command documents itself: a help text, and an `Example:` line on each command that
runs (sqlite-utils' help test). The checker is tested too, on a throwaway app."""

from __future__ import annotations

from typing import Any

import typer
from typer.main import get_command
from typer.testing import CliRunner

from helpers import walk_commands
from orderctl.cli.main import app


def help_problems(typer_app: typer.Typer) -> list[str]:
    """One line per command whose help falls short, naming the command and what is missing.

    Groups need a help text. Every other command also needs an example: a paragraph of its
    help that starts with `Example:` (Click re-wraps paragraphs, so an example that follows
    a sentence without a blank line comes out inside that sentence), shown by `--help`.
    """
    problems = []
    runner = CliRunner()
    for path, command in walk_commands(get_command(typer_app)):
        name = " ".join(("orderctl", *path))
        text = (command.help or "").strip()
        if not text:
            problems.append(f"{name}: no help text (a docstring)")
        shown = runner.invoke(typer_app, [*path, "--help"])
        if shown.exit_code != 0:
            problems.append(f"{name}: --help exits {shown.exit_code}: {shown.stderr.strip()}")
            continue
        if hasattr(command, "list_commands"):
            continue
        paragraphs = [p.strip().removeprefix("\b").strip() for p in text.split("\n\n")]
        examples = [p for p in paragraphs if p.startswith("Example:")]
        shown_lines = [line.strip() for line in shown.stdout.splitlines()]
        if not examples or not any(line.startswith("Example:") for line in shown_lines):
            problems.append(f"{name}: no `Example:` paragraph in its help")
    return problems


def test_every_command_has_help_with_an_example() -> None:
    paths = [path for path, _ in walk_commands(get_command(app))]
    # The walk reaches the lazily built groups and the nested ones.
    assert {("orders", "set-status"), ("auth", "token", "create"), ("import", "orders")} <= set(
        paths
    )
    assert help_problems(app) == []


def _throwaway_app() -> typer.Typer:
    tool = typer.Typer(help="A tool.")
    group = typer.Typer(help="Things.")
    bare = typer.Typer()  # a group without help
    tool.add_typer(group, name="things")
    tool.add_typer(bare, name="bare")

    @group.command("good")
    def good() -> None:
        """Do a good thing.

        Example: tool things good
        """

    @group.command("undocumented")
    def undocumented() -> None:
        pass

    @group.command("no-example")
    def no_example() -> None:
        """Do something, but say nowhere how."""

    @group.command("inline-example")
    def inline_example() -> None:
        """Do something. Example: tool things inline-example (re-wrapped into the sentence)"""

    @bare.command("run")
    def run(flag: Any = typer.Option(False, help="A flag.")) -> None:
        """Run.

        Example: tool bare run
        """

    return tool


def test_the_help_checker_names_each_command_that_falls_short() -> None:
    assert help_problems(_throwaway_app()) == [
        "orderctl things undocumented: no help text (a docstring)",
        "orderctl things undocumented: no `Example:` paragraph in its help",
        "orderctl things no-example: no `Example:` paragraph in its help",
        "orderctl things inline-example: no `Example:` paragraph in its help",
        "orderctl bare: no help text (a docstring)",
    ]
