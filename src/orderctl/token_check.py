"""The rule of a token check, apart from how the token is read: `services.access.authenticate`
reads it through SQLAlchemy, shell completion's lean path (cli/quick_complete.py) through the
bare driver; both judge it here.

Stdlib only: the lean completion path imports this without SQLAlchemy or Pydantic.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from orderctl.enums import Role
from orderctl.errors import NotAuthenticated, PermissionDenied, TokenRefused

TOKEN_PREFIX = "oct_"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the user behind a verified token (or a system job)."""

    user_id: int | None
    username: str
    role: Role
    token_id: int | None = None


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """What a token check needs of a token and its user."""

    token_id: int
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    user_id: int
    username: str
    role: str
    active: bool


#: The columns of `TokenCheck`, in its order, as `api_tokens t JOIN users u` selects them.
TOKEN_CHECK_COLUMNS = (
    ("api_tokens", "id"),
    ("api_tokens", "expires_at"),
    ("api_tokens", "revoked_at"),
    ("api_tokens", "last_used_at"),
    ("users", "id"),
    ("users", "username"),
    ("users", "role"),
    ("users", "active"),
)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def checked_secret(secret: str) -> str:
    """The secret without surrounding blanks; `TokenRefused` (exit 3) when it cannot be one."""
    secret = secret.strip()
    if not secret.startswith(TOKEN_PREFIX) or not secret.isascii() or len(secret) > 200:
        raise TokenRefused("is not a valid orderctl token")
    return secret


def actor_of(token: TokenCheck | None, now: datetime) -> Actor:
    """The actor of a stored token: known, not revoked, not expired, of an enabled user.
    Raises `TokenRefused` or `NotAuthenticated` (exit 3)."""
    if token is None:
        raise TokenRefused("is not known to this database")
    if token.revoked_at is not None:
        raise TokenRefused("has been revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused(f"expired at {token.expires_at:%Y-%m-%dT%H:%M:%SZ}")
    if not token.active:
        raise NotAuthenticated(f"user {token.username!r} is disabled")
    return Actor(
        user_id=token.user_id,
        username=token.username,
        role=Role(token.role),
        token_id=token.token_id,
    )


def check_role(actor: Actor, role: Role) -> None:
    """Raise `PermissionDenied` (exit 4) unless the actor has at least `role`."""
    if actor.role.rank < role.rank:
        raise PermissionDenied(
            f"permission denied: this needs the {role.value} role "
            f"({actor.username} is {actor.role.value})"
        )
