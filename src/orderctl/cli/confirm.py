"""Confirmation of destructive commands (DESIGN.md §18): one rule for every one of them.

A destructive command first says what it will do, with counts ("will delete 79,858 orders").
Then: `--yes` answers for scripts; on a terminal it asks `[y/N]`; with no terminal and no
`--yes` it refuses (exit 2) and nothing is changed. Declining is exit 1 ("aborted").
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


def confirm(plan: str, *, yes: bool, command: str) -> None:
    """Show `plan` (what will happen, with counts) on stderr and get a yes for it.

    Raises `UsageError` (exit 2) when there is no terminal to ask and no `--yes`, naming
    `command` so the message says what to add; `OrderctlError` with exit 1 when declined.
    """
    import sys

    from orderctl.cli.render import message
    from orderctl.errors import OrderctlError, UsageError

    message(plan)
    if yes:
        return
    stdin = sys.stdin
    interactive = stdin is not None and not stdin.closed and stdin.isatty()
    if not interactive:
        raise UsageError(
            f"{command} changes data and stdin is not a terminal to confirm it: "
            "add --yes to go ahead (nothing was changed)"
        )
    try:
        answer = typer.confirm("Continue?", default=False, err=True)
    except typer.Abort:  # Ctrl-D / Ctrl-C at the prompt
        answer = False
    if not answer:
        raise OrderctlError("aborted; nothing was changed")
