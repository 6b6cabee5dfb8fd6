"""Shell completion (DESIGN.md §20): `orderctl completion SHELL`, and one completer per kind of
value stored in the database or the config file.

An option or argument gets dynamic completion by naming its completer:
`typer.Option("--customer", autocompletion=complete.emails)`. Fixed values (statuses, sorts,
formats, roles) need nothing: an `Enum` type completes its members by itself.

A completer never fails and never writes: with no login, an expired token, a missing SQLite
file, an unreachable server or any other problem it offers nothing, silently, as a shell
expects of a Tab press. It reads no more than one prefix query after the token check, and
it does not touch the token's `last_used_at`, check the schema or create a database file.
This module is imported by every command module, so it imports only typer at the top.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from orderctl.enums import LookupKind

PROG_NAME = "orderctl"
#: The variable through which the shell asks `orderctl` for candidates (Click's protocol).
COMPLETE_VAR = "_ORDERCTL_COMPLETE"


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def completion(
    ctx: typer.Context,
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", metavar="SHELL")],
) -> None:
    """Print the shell completion script for SHELL (needs no login and no database).

    Example: orderctl completion bash > ~/.local/share/bash-completion/completions/orderctl

    Example: orderctl completion zsh > "${fpath[1]}/_orderctl"

    Example: orderctl completion fish > ~/.config/fish/completions/orderctl.fish
    """
    from typer.completion import shell_complete

    # What `_ORDERCTL_COMPLETE=source_bash orderctl` prints (Click's protocol, through typer):
    # the same script as `--show-completion`, for a named shell and program.
    root = ctx.find_root().command
    code = shell_complete(root, {}, PROG_NAME, COMPLETE_VAR, f"source_{shell.value}")
    if code != 0:
        raise typer.Exit(code)


# ---- completers: `autocompletion=` of an option or argument ----
# Their candidates come from `lookup_rules.candidates`, as those of the lean path that answers
# a real Tab press (cli/quick_complete.py); these answer in-process and where it gives way.


def skus(ctx: typer.Context, incomplete: str) -> list[str]:
    """Product SKUs starting with what is typed."""
    return _stored(ctx, "skus", incomplete)


def item_lines(ctx: typer.Context, incomplete: str) -> list[str]:
    """`--item SKU:QTY`: the SKUs, each followed by `:` for the quantity to be typed."""
    return _stored(ctx, "item_lines", incomplete)


def order_refs(ctx: typer.Context, incomplete: str) -> list[str]:
    """External refs of orders starting with what is typed (ids are not offered)."""
    return _stored(ctx, "order_refs", incomplete)


def emails(ctx: typer.Context, incomplete: str) -> list[str]:
    """Customer emails starting with what is typed (in any case)."""
    return _stored(ctx, "emails", incomplete)


def usernames(ctx: typer.Context, incomplete: str) -> list[str]:
    """Usernames starting with what is typed (for admins: only they may list users)."""
    return _stored(ctx, "usernames", incomplete)


def contexts(ctx: typer.Context, incomplete: str) -> list[str]:
    """Context names (`[contexts.NAME]` tables of config.toml) starting with what is typed."""
    from orderctl.contexts import context_names
    from orderctl.lookup_rules import MAX_CANDIDATES

    return context_names(incomplete, MAX_CANDIDATES)


def _stored(ctx: typer.Context, completer: str, incomplete: str) -> list[str]:
    from orderctl.lookup_rules import candidates

    try:
        return candidates(completer, incomplete, lambda kind, prefix: _lookup(ctx, kind, prefix))
    except Exception:  # not logged in, expired, offline, not migrated: offer nothing
        return []


def _lookup(ctx: typer.Context, kind: LookupKind, incomplete: str) -> list[str]:
    from orderctl.cli.context import AppState
    from orderctl.credentials import load_token
    from orderctl.db import Database, sqlite_path
    from orderctl.services.access import authenticate
    from orderctl.services.lookups import values_starting_with
    from orderctl.services.uow import UnitOfWork

    # The root callback does not run while completing: read the root's flags as parsed.
    root = ctx.find_root().params
    state = AppState(database_url_flag=root.get("database_url"), context_flag=root.get("context"))
    url = state.settings().database_url
    cached = load_token(url)
    path = sqlite_path(url)
    if cached is None or (path is not None and not path.is_file()):
        return []  # connecting would create the file
    db = Database(url)
    try:
        actor = authenticate(db, cached.token, record_use=False)
        with UnitOfWork(db, write=False) as uow:
            return values_starting_with(uow, actor, kind, incomplete)
    finally:
        db.dispose()
