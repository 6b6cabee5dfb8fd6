"""Who is acting and what they may do: the token check of every command and the role checks
of every service function (DESIGN.md §3). Logins, tokens and users are in `services.auth`.

A leaf of the start-up path: no ORM models and no Pydantic (docs/performance.md).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from orderctl import clock
from orderctl.db import translate_errors
from orderctl.enums import Role
from orderctl.errors import (
    DatabaseUnavailable,
    NotAuthenticated,
    PermissionDenied,
    TokenRefused,
)
from orderctl.services.uow import UnitOfWork

if TYPE_CHECKING:
    from orderctl.db import Database

TOKEN_PREFIX = "oct_"
#: A token check writes `last_used_at` only when it is older than this, so commands run in a
#: loop do not write at all (docs/auth.md).
TOUCH_INTERVAL = timedelta(minutes=1)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the user behind a verified token (or a system job)."""

    user_id: int | None
    username: str
    role: Role
    token_id: int | None = None


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(db: Database, secret: str, *, record_use: bool = True) -> Actor:
    """Resolve a token to its actor and record its use. Raises `NotAuthenticated` (exit 3).

    The check is a read. `last_used_at` is then written (at most once a minute) in a
    transaction of its own that does not wait for locks: an import on SQLite holds the write
    lock for its whole run, and a read command must not queue behind it for a timestamp; a
    skipped write is made by the next command. `record_use=False` only reads (shell
    completion, which must write nothing).
    """
    secret = secret.strip()
    if not secret.startswith(TOKEN_PREFIX) or not secret.isascii() or len(secret) > 200:
        raise TokenRefused("is not a valid orderctl token")
    from orderctl.repositories.access import find_token

    # A plain connection, not a unit of work: one read, no ORM session made for it.
    with translate_errors(db), db.engine.connect() as connection:
        token = find_token(connection, hash_token(secret))
    if token is None:
        raise TokenRefused("is not known to this database")
    now = clock.utcnow()
    if token.revoked_at is not None:
        raise TokenRefused("has been revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused(f"expired at {token.expires_at:%Y-%m-%dT%H:%M:%SZ}")
    if not token.active:
        raise NotAuthenticated(f"user {token.username!r} is disabled")
    actor = Actor(
        user_id=token.user_id,
        username=token.username,
        role=Role(token.role),
        token_id=token.token_id,
    )
    if record_use and (token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL):
        try:
            with UnitOfWork(db, wait=False) as touch:
                touch.access.touch(token.token_id, now)
                touch.commit()
        except DatabaseUnavailable:
            pass  # busy, or a read-only database: the use is recorded by a later command
    return actor


def requires(
    role: Role,
) -> Callable[
    [Callable[Concatenate[UnitOfWork, Actor, P], R]], Callable[Concatenate[UnitOfWork, Actor, P], R]
]:
    """Declare the least role a service function needs; its first two arguments are uow, actor."""

    def decorate(
        func: Callable[Concatenate[UnitOfWork, Actor, P], R],
    ) -> Callable[Concatenate[UnitOfWork, Actor, P], R]:
        @functools.wraps(func)
        def wrapper(uow: UnitOfWork, actor: Actor, /, *args: P.args, **kwargs: P.kwargs) -> R:
            check_role(actor, role)
            return func(uow, actor, *args, **kwargs)

        wrapper.required_role = role  # type: ignore[attr-defined]
        return wrapper

    return decorate


def check_role(actor: Actor, role: Role) -> None:
    """Raise `PermissionDenied` (exit 4) unless the actor has at least `role`."""
    if actor.role.rank < role.rank:
        raise PermissionDenied(
            f"permission denied: this needs the {role.value} role "
            f"({actor.username} is {actor.role.value})"
        )
