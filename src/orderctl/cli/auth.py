"""`orderctl auth`: log in and out, see who you are, manage API tokens (DESIGN.md §3)."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

import typer

from orderctl.cli import completion as complete
from orderctl.cli.confirm import Yes, confirm
from orderctl.cli.context import get_state
from orderctl.cli.fields import printed_format
from orderctl.cli.options import Jq, NoHeaders, Output, PasswordStdin, json_option, read_password
from orderctl.cli.tables import Column
from orderctl.enums import OutputFormat

if TYPE_CHECKING:
    from orderctl.schemas import TokenRead

app = typer.Typer(help="Log in and out, and manage API tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


class LoginStatus(TypedDict):
    """The document of `auth status`."""

    username: str
    role: str
    database: str
    context: str | None
    token_id: int | None
    token_name: str | None
    token_prefix: str | None
    expires_at: str | None
    source: str | None
    credentials_file: str | None


StatusJson = Annotated[str | None, json_option("orderctl.cli.auth:LoginStatus")]
TokenJson = Annotated[str | None, json_option("orderctl.schemas:TokenRead")]
#: `auth token create` prints the token's document with its secret in `token`.
NewTokenJson = Annotated[str | None, json_option("orderctl.schemas:TokenRead", "token")]

#: Display order; `rank`: which stay longest on a narrow terminal (1 first).
TOKEN_COLUMNS = [
    Column("ID", "id", rank=1),
    Column("NAME", "name", rank=2),
    Column("PREFIX", "prefix", rank=7),
    Column("USER", "user", rank=3),
    Column("CREATED", "created_at", rank=8),
    Column("EXPIRES", "expires_at", rank=5),
    Column("LAST USED", "last_used_at", rank=6),
    Column("REVOKED", "revoked_at", rank=9),
    Column("STATE", "state", rank=4),
]


def parse_expiry(text: str, *, allow_never: bool) -> timedelta | None:
    """`--expires`: a duration such as 30d (exit 2 when it cannot be parsed), or `never`."""
    from orderctl.durations import parse_duration
    from orderctl.errors import UsageError

    if allow_never and text.strip().lower() == "never":
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        hint = " or `never`" if allow_never else ""
        raise UsageError(f"--expires: {exc}{hint}") from None


def _expiry(token: TokenRead) -> str:
    from orderctl.schemas import format_timestamp

    return "never" if token.expires_at is None else format_timestamp(token.expires_at)


def _ask_username() -> str:
    from orderctl.errors import UsageError

    if sys.stdin is None or sys.stdin.closed or not sys.stdin.isatty():
        raise UsageError("no username given: pass -u USER (stdin is not a terminal)")
    value: str = typer.prompt("Username", err=True)
    return value


@app.command("login")
def login(
    ctx: typer.Context,
    username: Annotated[
        str | None,
        typer.Option(
            "--username", "-u", help="Who logs in (prompted on a terminal).", show_default=False
        ),
    ] = None,
    password_stdin: PasswordStdin = False,
    expires: Annotated[
        str, typer.Option("--expires", help="Lifetime of the login token, e.g. 12h, 30d.")
    ] = "30d",
) -> None:
    """Log in: check the password, create a token, and cache it for this database.

    The token is saved in <config dir>/credentials.json (one login per database); the login
    it replaces there is revoked.

    Example: echo "$PW" | orderctl auth login -u alice --password-stdin --expires 7d
    """
    from orderctl.cli.render import message, warning
    from orderctl.credentials import cached_login, save_token
    from orderctl.services import auth

    ttl = parse_expiry(expires, allow_never=False)
    assert ttl is not None
    state = get_state(ctx)
    db = state.ready_database()
    name = username if username is not None else _ask_username()
    password = read_password(from_stdin=password_stdin, confirm=False)
    replaced = cached_login(db.url)
    with state.uow() as uow:
        secret, token = auth.login(
            uow, name, password, ttl=ttl, replaces=replaced.token if replaced else None
        )
    path = save_token(db.url, secret, token.user)
    message(
        f"logged in to {db.display_url} as {token.user} "
        f"(token {token.id}, expires {_expiry(token)}); saved in {path}"
    )
    if os.environ.get("ORDERCTL_TOKEN"):
        warning("ORDERCTL_TOKEN is set and overrides this login until you unset it")


@app.command("status")
def status(
    ctx: typer.Context,
    output: Output = OutputFormat.TABLE,
    json_fields: StatusJson = None,
    jq: Jq = None,
) -> None:
    """Show who is logged in: user, role, database (and context), token expiry and where the
    token came from.

    Example: orderctl auth status -o json
    """
    from orderctl.cli.render import render_one
    from orderctl.credentials import credentials_file, load_token
    from orderctl.services import auth

    state = get_state(ctx)
    actor = state.actor()
    db = state.ready_database()
    cached = load_token(db.url)
    with state.uow(write=False) as uow:
        user, token = auth.current_login(uow, actor)
    token_doc: dict[str, Any] = token.model_dump(mode="json") if token is not None else {}
    from_file = cached is not None and cached.source == "credentials file"
    doc: LoginStatus = {
        "username": user.username,
        "role": user.role.value,
        "database": db.display_url,
        "context": state.settings().context,
        "token_id": token_doc.get("id"),
        "token_name": token_doc.get("name"),
        "token_prefix": token_doc.get("prefix"),
        "expires_at": token_doc.get("expires_at"),
        "source": cached.source if cached is not None else None,
        "credentials_file": str(credentials_file()) if from_file else None,
    }
    render_one(dict(doc), output, json_fields=json_fields, jq=jq)


@app.command("logout")
def logout(ctx: typer.Context) -> None:
    """Log out of this database: revoke the cached login token and remove it from the cache.

    A token given in ORDERCTL_TOKEN is left alone (revoke it with `auth token revoke ID`).

    Example: orderctl auth logout
    """
    from orderctl.cli.render import message
    from orderctl.credentials import cached_login, remove_token
    from orderctl.errors import NotAuthenticated
    from orderctl.services import auth

    state = get_state(ctx)
    db = state.ready_database()
    cached = cached_login(db.url)
    if cached is None:
        hint = (
            " (ORDERCTL_TOKEN is set but logout only ends cached logins; revoke that token "
            "with `orderctl auth token revoke ID`)"
            if os.environ.get("ORDERCTL_TOKEN")
            else ""
        )
        raise NotAuthenticated(
            f"not logged in to {db.display_url}: nothing to log out "
            f"(log in with `orderctl auth login`){hint}"
        )
    with state.uow() as uow:
        token = auth.logout(uow, cached.token)
    remove_token(db.url)
    if token is None:
        message(
            f"logged out of {db.display_url} (the cached token was unknown to this database; "
            "removed it from the cache)"
        )
    else:
        message(f"logged out {token.user} from {db.display_url} (token {token.id} revoked)")


@token_app.command("create")
def create_token(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Option("--name", help="What the token is for, e.g. nightly-import.")
    ],
    expires: Annotated[
        str, typer.Option("--expires", help="Lifetime, e.g. 90d, 12h, or `never`.")
    ] = "90d",
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="Owner of the token (admin only; default: you).",
            show_default=False,
            autocompletion=complete.usernames,
        ),
    ] = None,
    output: Output = OutputFormat.TABLE,
    json_fields: NewTokenJson = None,
    jq: Jq = None,
) -> None:
    """Create an API token for scripts and cron; the secret is printed once, on stdout.

    With -o json/jsonl/csv the token document is printed with the secret in `token`.

    Example: ORDERCTL_TOKEN=$(orderctl auth token create --name nightly --expires 365d)
    """
    from orderctl.cli.render import message, render_one
    from orderctl.services import auth

    ttl = parse_expiry(expires, allow_never=True)
    state = get_state(ctx)
    actor = state.actor()
    with state.uow() as uow:
        secret, token = auth.create_token(uow, actor, name=name, ttl=ttl, username=user)
    if printed_format(output, json_fields, jq).tabular:
        sys.stdout.write(secret + "\n")
        sys.stdout.flush()
    else:
        render_one(
            {**token.model_dump(mode="json"), "token": secret},
            output,
            json_fields=json_fields,
            jq=jq,
        )
    message(
        f"created token {token.id} {token.name!r} for {token.user} (expires {_expiry(token)}); "
        "store it now, it is not shown again"
    )


@token_app.command("list")
def list_tokens(
    ctx: typer.Context,
    all_users: Annotated[
        bool, typer.Option("--all", help="Every user's tokens (admin only).")
    ] = False,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: TokenJson = None,
    jq: Jq = None,
) -> None:
    """List your tokens (or everyone's with --all), revoked and expired ones too. No secrets.

    Example: orderctl auth token list --all -o json
    """
    from orderctl.cli.render import render_list
    from orderctl.schemas import TokenRead
    from orderctl.services import auth

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(write=False) as uow:
        tokens = auth.list_tokens(uow, actor, all_users=all_users)
    render_list(
        tokens,
        output,
        TOKEN_COLUMNS,
        empty="no tokens",
        fields=TokenRead,
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )


@token_app.command("revoke")
def revoke_token(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(help="The token's id (see `auth token list`).")],
    yes: Yes = False,
    output: Output = OutputFormat.TABLE,
    json_fields: TokenJson = None,
    jq: Jq = None,
) -> None:
    """Revoke a token at once: your own, or (admin) anyone's. Revoking twice is harmless.

    Another user's token is revoked after a [y/N] question (--yes for scripts).

    Example: orderctl auth token revoke 12
    """
    from orderctl.cli.render import message, render_one
    from orderctl.services import auth

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(write=False) as uow:
        plan = auth.plan_revoke(uow, actor, token_id)
    if plan.needs_confirmation:
        confirm(
            f"will revoke token {plan.token.id} {plan.token.name!r} of user {plan.token.user}",
            yes=yes,
            command="auth token revoke",
        )
    with state.uow() as uow:
        token = auth.revoke_token(uow, actor, token_id)
    render_one(token, output, json_fields=json_fields, jq=jq)
    message(f"token {token.id} of {token.user} is revoked")
