"""`orderctl help TOPIC`: help beyond one command's `--help` (DESIGN.md §12), as `gh help`."""

from __future__ import annotations

from typing import Annotated

import typer

TOPICS = {"environment": "environment variables and config file keys, with precedence"}


def help_topic(
    topic: Annotated[
        str | None, typer.Argument(metavar="TOPIC", help="environment (none: list the topics).")
    ] = None,
) -> None:
    """Show a help topic. Needs no login and no database.

    Topics: environment (every environment variable and config file key, and which wins).

    Example: orderctl help environment
    """
    from orderctl.cli.render import write_text
    from orderctl.errors import UsageError

    if topic is None:
        write_text("".join(f"{name:<14}{text}\n" for name, text in TOPICS.items()))
        return
    if topic not in TOPICS:
        raise UsageError(
            f"unknown help topic {topic!r} (topics: {', '.join(TOPICS)}; for a command: "
            "orderctl COMMAND --help)"
        )
    write_text(environment_text())


def environment_text() -> str:
    """The text of `orderctl help environment`, built from `config.ENVIRONMENT`."""
    import textwrap

    from orderctl.config import ENVIRONMENT, FILE_KEYS, config_file

    def wrapped(text: str) -> str:
        return textwrap.fill(text, 88, initial_indent="  ", subsequent_indent="  ") + "\n"

    parts = [
        "ENVIRONMENT\n",
        wrapped(
            "Each setting resolves in this order, the first one given wins: a command-line "
            "flag, then its environment variable, then the context in use (--context, "
            "ORDERCTL_CONTEXT or `orderctl context use`), then its key in the config file, "
            "then the default. An empty variable (ORDERCTL_DATABASE_URL=) counts as unset. "
            "`orderctl config show` prints each effective value and where it came from."
        ),
    ]
    for var in ENVIRONMENT:
        also = [f"flag {var.flag}" if var.flag else "", f"config key {var.key}" if var.key else ""]
        parts.append("\n" + var.name + "".join(f"  ({a})" for a in also if a) + "\n")
        parts.append(wrapped(var.text))
    by_key = {var.key: var for var in ENVIRONMENT if var.key}
    parts += [
        "\nCONFIG FILE\n",
        wrapped(
            f"{config_file()} (TOML, mode 0600: it may hold a password). Keys: "
            + "; ".join(f"{key} (overridden by {by_key[key].name})" for key in FILE_KEYS)
            + ". Set one with `orderctl config set KEY VALUE`, remove it with "
            "`orderctl config unset KEY`; an unknown key is an error (exit 2). Contexts live "
            "there too (current_context and [contexts.NAME] tables), written by "
            "`orderctl context`."
        ),
    ]
    return "".join(parts)
