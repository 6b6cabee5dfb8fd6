"""Confirmation of destructive commands (DESIGN.md §18): one rule for every one of them.

A destructive command first says what it will do, with counts ("will delete 79,858 orders").
Then: `--yes` answers for scripts; on a terminal it asks `[y/N]`; with no terminal and no
`--yes` it refuses (exit 2) and nothing is changed. Declining is exit 1 ("aborted").
The counts come from the services (a plan or a dry run); this module only asks.

With a protected context in use (`context add --protect`, DESIGN.md §17) the answer is the
context's name, typed, even with `--yes`; with no terminal the command refuses (exit 2) unless
`--yes --context NAME` on its own command line names that context.
"""

from __future__ import annotations

from typing import Annotated

import typer

Yes = Annotated[
    bool,
    typer.Option(
        "--yes", "-y", help="Answer yes to the confirmation (scripts, cron); see `--dry-run`."
    ),
]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`1 order`, `79,858 orders`: a count as a plan states it."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def confirm(plan: str, *, yes: bool, command: str, quiet: bool = False) -> None:
    """Show `plan` (what will happen, with counts) on stderr and get a yes for it.

    With `yes` the plan is shown (unless `quiet`: cron mails any output) and nothing asked.
    Raises `UsageError` (exit 2) when there is no terminal to ask and no `--yes`, in one
    `error:` line holding the plan and naming `command`; `OrderctlError` (exit 1) when declined.
    """
    import sys

    from orderctl.cli.context import current_state
    from orderctl.cli.render import message
    from orderctl.errors import OrderctlError, UsageError

    settings = current_state().settings()
    stdin = sys.stdin
    interactive = stdin is not None and not stdin.closed and stdin.isatty()
    if settings.protected and settings.context is not None:
        _confirm_protected(
            plan, settings.context, yes=yes and settings.context_source == "flag",
            interactive=interactive, command=command, quiet=quiet,
        )  # fmt: skip
        return
    if yes:
        if not quiet:
            message(plan)
        return
    if not interactive:
        raise UsageError(
            f"not confirmed: {plan}; stdin is not a terminal to ask on, so {command} "
            "needs --yes to go ahead (nothing was changed)"
        )
    message(plan)
    try:
        answer = typer.confirm("Continue?", default=False, err=True)
    except typer.Abort:  # Ctrl-D / Ctrl-C at the prompt
        answer = False
    if not answer:
        raise OrderctlError("aborted; nothing was changed")


def _confirm_protected(
    plan: str, name: str, *, yes: bool, interactive: bool, command: str, quiet: bool
) -> None:
    """A protected context's confirmation: its name typed on a terminal, or, with none, `yes`
    meaning `--yes --context NAME` on this command line (never `context use` or the variable:
    a script must name production to change it)."""
    from orderctl.cli.render import message
    from orderctl.errors import OrderctlError, UsageError

    if not interactive:
        if yes:
            if not quiet:
                message(f"{plan} (protected context {name}, named by --context)")
            return
        raise UsageError(
            f"not confirmed: {plan}; context {name} is protected and stdin is not a terminal "
            f"to type its name on, so {command} needs --yes --context {name} (nothing was "
            "changed)"
        )
    message(plan)
    try:
        typed: str = typer.prompt(
            f"Context {name} is protected: type its name to continue", default="",
            show_default=False, err=True,
        )  # fmt: skip
    except typer.Abort:  # Ctrl-D / Ctrl-C at the prompt
        typed = ""
    if typed.strip() != name:
        raise OrderctlError(f"aborted: that is not {name!r}; nothing was changed")
