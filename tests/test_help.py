"""Every command documents itself: a help text, and an `Example:` line on each command that
runs (sqlite-utils' help test). The checker is tested too, on a throwaway app."""

from __future__ import annotations

import re
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
        problems += [
            f"{name}: example line re-wrapped: {line.strip()}"
            for example in examples
            for line in example.splitlines()
            if line.strip() not in shown_lines
        ]
        # The usage line and the options; typer's Arguments section always adds a Python type
        # after the argument's name (`SKU <str>`), which no setting changes.
        usage, _, rest = shown.stdout.partition("\n")
        options = rest.partition("\nOptions:\n")[2]
        rough = sorted(set(ROUGH_PLACEHOLDER.findall(usage + "\n" + options)))
        if rough:
            problems.append(f"{name}: placeholders that name no value: {', '.join(rough)}")
    return problems


#: How typer shows a value it was told nothing about: its Python type (`<str>`, `<int>`,
#: `<list[a|b]>`) or, for an argument, its parameter name (`{sku}`). `--help` names values
#: (`SKU`, `EMAIL`, `DATE`, `N`, `TEXT`) or lists the choices (`<table|json>`).
ROUGH_PLACEHOLDER = re.compile(
    r"<(?:str|int|float|int range|list\[[^>]*\])>|\{[a-z_]+\}|\[(?!required\])[a-z_]+\]"
)


def test_every_command_has_help_with_an_example() -> None:
    paths = [path for path, _ in walk_commands(get_command(app))]
    # The walk reaches the lazily built groups and the nested ones.
    assert {("orders", "set-status"), ("auth", "token", "create"), ("import", "orders")} <= set(
        paths
    )
    assert help_problems(app) == []


def _throwaway_app() -> typer.Typer:
    # Plain Click help, as orderctl's (typer's Rich help wraps and names values otherwise).
    tool = typer.Typer(help="A tool.", rich_markup_mode=None)
    group = typer.Typer(help="Things.", rich_markup_mode=None)
    bare = typer.Typer(rich_markup_mode=None)  # a group without help
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

    @group.command("two-examples")
    def two_examples(name: str = typer.Option("x", help="A name.")) -> None:
        """Do two things.

        Example: tool things two-examples
        Example: tool things two-examples --name y
        """

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
        "orderctl things two-examples: example line re-wrapped: Example: tool things two-examples",
        "orderctl things two-examples: example line re-wrapped: "
        "Example: tool things two-examples --name y",
        "orderctl things two-examples: placeholders that name no value: <str>",
        "orderctl bare: no help text (a docstring)",
    ]


def test_a_value_reads_the_same_on_every_command() -> None:
    """One option name, one placeholder, wherever it appears; and the names a reader
    expects for the values this tool takes (written out here, not read from the code)."""
    shown: dict[str, set[str]] = {}
    for _, command in walk_commands(get_command(app)):
        ctx = typer.Context(command)
        for param in command.params:
            record = param.get_help_record(ctx) if param.param_type_name == "option" else None
            if record is not None:
                shown.setdefault(param.opts[-1], set()).add(record[0])
    # `--after` is where a listing starts, in its own key: a customer's email for
    # `customers list`, an event id for `events tail`.
    assert {name: forms for name, forms in shown.items() if len(forms) > 1} == {
        "--after": {"--after EMAIL", "--after ID"}
    }
    expected = {
        "--customer": "--customer EMAIL",
        "--item": "--item SKU:QTY",
        "--from-file": "--from-file FILE",
        "--since": "--since DATE",
        "--until": "--until DATE",
        "--min-total": "--min-total AMOUNT",
        "--price": "--price AMOUNT",
        "--after": "--after EMAIL",
        "--limit": "--limit N",
        "--older-than": "--older-than DURATION",
        "--user": "--user USERNAME",
        "--database-url": "--database-url URL",
    }
    # `--after` has two forms (above): the expected one must be among them (popping from a
    # set would pick one by hash order, different from run to run).
    assert {name: form for name, form in expected.items() if form not in shown[name]} == {}


def test_arguments_are_named_in_the_usage_line() -> None:
    runner = CliRunner()
    for args, usage in [
        (["orders", "show"], "Usage: orderctl orders show [OPTIONS] [ID_OR_REF]"),
        (["products", "show"], "Usage: orderctl products show [OPTIONS] {SKU}"),
        (["customers", "show"], "Usage: orderctl customers show [OPTIONS] {EMAIL}"),
        (["users", "set-role"], "Usage: orderctl users set-role [OPTIONS] {USERNAME} {ROLE}"),
        (["import", "orders"], "Usage: orderctl import orders [OPTIONS] {FILE}"),
        (["completion"], "Usage: orderctl completion [OPTIONS] {SHELL}"),
    ]:
        result = runner.invoke(app, [*args, "--help"])
        assert result.stdout.splitlines()[0] == usage


def test_examples_keep_their_line_breaks() -> None:
    result = CliRunner().invoke(app, ["products", "update", "--help"])
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert "Example: orderctl products update MUG-01 --price 13.00 --stock 80" in lines
    assert "Example: orderctl products update MUG-01 --add-stock 2   (two returned mugs)" in lines
