"""Passwords, tokens, login and role checks (DESIGN.md §3)."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Concatenate, ParamSpec, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from orderctl import clock
from orderctl.enums import Role
from orderctl.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from orderctl.models import ApiToken, User
from orderctl.schemas import Actor, TokenRead, UserCreate, UserRead, parse
from orderctl.services.uow import UnitOfWork

TOKEN_PREFIX = "oct_"
DEFAULT_LOGIN_TTL = timedelta(days=30)
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
LOGIN_FAILED = "login failed: unknown user or wrong password"

_hasher = PasswordHasher()  # argon2id with the library's current defaults
# Verified against when the user does not exist, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("orderctl-dummy-password")

P = ParamSpec("P")
R = TypeVar("R")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token_secret() -> str:
    """An opaque token: `oct_` + 32 random bytes, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_read(token: ApiToken) -> TokenRead:
    return TokenRead(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        user=token.user.username,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


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


def _issue_token(
    uow: UnitOfWork, user: User, *, name: str, ttl: timedelta | None, created_by: str
) -> tuple[str, ApiToken]:
    secret = new_token_secret()
    now = clock.utcnow()
    token = ApiToken(
        user=user,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        created_at=now,
        expires_at=None if ttl is None else now + ttl,
        created_by=created_by,
    )
    uow.tokens.add(token)
    return secret, token


def login(
    uow: UnitOfWork, username: str, password: str, *, ttl: timedelta = DEFAULT_LOGIN_TTL
) -> tuple[str, TokenRead]:
    """Check a password and create a login token. Raises `NotAuthenticated` on any failure.

    Unknown user and wrong password give the same message and cost one argon2 verify each.
    Five failures in a row lock the account for 15 minutes; a success resets the count.
    """
    now = clock.utcnow()
    user = uow.users.get_by_username(username.strip())
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise NotAuthenticated(LOGIN_FAILED)
    if user.locked_until is not None and user.locked_until > now:
        verify_password(_DUMMY_HASH, password)
        raise NotAuthenticated(
            f"account {user.username!r} is locked after {MAX_FAILED_LOGINS} failed logins "
            f"until {user.locked_until:%Y-%m-%dT%H:%M:%SZ}"
        )
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        uow.commit()
        raise NotAuthenticated(LOGIN_FAILED)
    if not user.active:
        raise NotAuthenticated(f"user {user.username!r} is disabled")
    user.failed_logins = 0
    user.locked_until = None
    secret, token = _issue_token(uow, user, name="login", ttl=ttl, created_by=user.username)
    read = token_read(token)
    uow.commit()
    return secret, read


def authenticate(uow: UnitOfWork, secret: str) -> Actor:
    """Resolve a token to its actor and record its use. Raises `NotAuthenticated` (exit 3)."""
    secret = secret.strip()
    if not secret.startswith(TOKEN_PREFIX):
        raise NotAuthenticated("invalid token: run `orderctl auth login`")
    token = uow.tokens.get_by_hash(hash_token(secret))
    if token is None:
        raise NotAuthenticated(
            "invalid token (not known to this database): run `orderctl auth login`"
        )
    now = clock.utcnow()
    if token.revoked_at is not None:
        raise NotAuthenticated("token has been revoked: run `orderctl auth login`")
    if token.expires_at is not None and token.expires_at <= now:
        raise NotAuthenticated(
            f"token expired at {token.expires_at:%Y-%m-%dT%H:%M:%SZ}: run `orderctl auth login`"
        )
    if not token.user.active:
        raise NotAuthenticated(f"user {token.user.username!r} is disabled")
    token.last_used_at = now
    actor = Actor(
        user_id=token.user.id,
        username=token.user.username,
        role=Role(token.user.role),
        token_id=token.id,
    )
    uow.commit()
    return actor


def bootstrap_admin(uow: UnitOfWork, username: str, password: str) -> UserRead:
    """Create the first admin. Raises `ValidationFailed` when users already exist."""
    if uow.users.count() > 0:
        raise ValidationFailed("the database already has users; use `orderctl users create`")
    data = parse(UserCreate, {"username": username, "role": Role.ADMIN, "password": password})
    user = uow.users.add(
        User(
            username=data.username,
            password_hash=hash_password(data.password),
            role=data.role.value,
            active=True,
            updated_by=data.username,
        )
    )
    read = UserRead.model_validate(user)
    uow.commit()
    return read


def has_users(uow: UnitOfWork) -> bool:
    return uow.users.count() > 0
