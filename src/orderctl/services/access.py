"""Who is acting and what they may do: the token check of every command and the role checks
of every service function (DESIGN.md §3). Logins, tokens and users are in `services.auth`.

A leaf of the start-up path: no ORM models and no Pydantic (docs/performance.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from orderctl import clock
from orderctl.enums import Role
from orderctl.errors import DatabaseUnavailable
from orderctl.services.uow import UnitOfWork
from orderctl.token_check import (
    TOKEN_PREFIX,
    Actor,
    actor_of,
    check_role,
    checked_secret,
    hash_token,
)

if TYPE_CHECKING:
    from orderctl.db import Database

#: A token check writes `last_used_at` only when it is older than this, so commands run in a
#: loop do not write at all (docs/auth.md).
TOUCH_INTERVAL = timedelta(minutes=1)

__all__ = ["TOKEN_PREFIX", "Actor", "authenticate", "check_role", "hash_token", "requires"]

P = ParamSpec("P")
R = TypeVar("R")


def authenticate(db: Database, secret: str, *, record_use: bool = True) -> Actor:
    """Resolve a token to its actor and record its use. Raises `NotAuthenticated` (exit 3).

    The check is a read. `last_used_at` is then written (at most once a minute) in a
    transaction of its own that does not wait for locks: an import on SQLite holds the write
    lock for its whole run, and a read command must not queue behind it for a timestamp; a
    skipped write is made by the next command. `record_use=False` only reads (shell
    completion, which must write nothing).
    """
    secret = checked_secret(secret)
    from orderctl.repositories.access import lookup_token

    token = lookup_token(db, hash_token(secret))
    now = clock.utcnow()
    actor = actor_of(token, now)
    assert token is not None  # actor_of refuses an unknown token
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
