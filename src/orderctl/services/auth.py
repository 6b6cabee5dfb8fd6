"""Passwords, logins, tokens and the first admin (DESIGN.md §3); the token check of every
command and the role checks are in `services.access`."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orderctl import clock
from orderctl.enums import Role, TokenState
from orderctl.errors import (
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from orderctl.models import ApiToken, User
from orderctl.schemas import (
    USERNAME_PATTERN,
    TokenCreate,
    TokenRead,
    UserCreate,
    UserRead,
    parse,
)
from orderctl.services.access import TOKEN_PREFIX, Actor, check_role, hash_token, requires
from orderctl.services.uow import UnitOfWork

DEFAULT_LOGIN_TTL = timedelta(days=30)
#: `auth token create` without `--expires`; `--expires never` is allowed (docs/auth.md).
DEFAULT_TOKEN_TTL = timedelta(days=90)
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
LOGIN_FAILED = "login failed: unknown user or wrong password"
#: What a username may be: ASCII only, so look-alike names (Cyrillic "а" for "a", bidi
#: controls) cannot impersonate someone in the audit trail. Anything else names no user.
USERNAME_RE = re.compile(USERNAME_PATTERN)

if TYPE_CHECKING:
    from argon2 import PasswordHasher


def __getattr__(name: str) -> Any:
    """`_hasher` (argon2id with the library's current defaults) and `_DUMMY_HASH` (verified
    against when the user does not exist, so both failures take the same time), made on first
    use: argon2 and one hash cost ~0.1-0.3 s, which a token check must not pay (start-up).
    """
    if name == "_hasher":
        from argon2 import PasswordHasher

        value: Any = PasswordHasher()
    elif name == "_DUMMY_HASH":
        from argon2 import PasswordHasher

        # The production parameters even while a test has swapped `_hasher`.
        value = PasswordHasher().hash("orderctl-dummy-password")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def _password_hasher() -> PasswordHasher:
    hasher = globals().get("_hasher")
    return hasher if hasher is not None else __getattr__("_hasher")  # type: ignore[no-any-return]


def _dummy_hash() -> str:
    dummy = globals().get("_DUMMY_HASH")
    return str(dummy if dummy is not None else __getattr__("_DUMMY_HASH"))


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _password_hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token_secret() -> str:
    """An opaque token: `oct_` + 32 random bytes, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_state(token: ApiToken, now: datetime) -> TokenState:
    """Whether `token` works at `now`; a lasting reason (revoked, expired) wins over a
    passing one (the user disabled), so the state says whether enabling the user helps."""
    if token.revoked_at is not None:
        return TokenState.REVOKED
    if token.expires_at is not None and token.expires_at <= now:
        return TokenState.EXPIRED
    if not token.user.active:
        return TokenState.USER_DISABLED
    return TokenState.ACTIVE


def token_read(token: ApiToken, now: datetime | None = None) -> TokenRead:
    return TokenRead(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        user=token.user.username,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
        state=token_state(token, clock.utcnow() if now is None else now),
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
    uow: UnitOfWork,
    username: str,
    password: str,
    *,
    ttl: timedelta = DEFAULT_LOGIN_TTL,
    replaces: str | None = None,
) -> tuple[str, TokenRead]:
    """Check a password and create a login token. Raises `NotAuthenticated` on any failure.

    Unknown user and wrong password give the same message and cost one argon2 verify each.
    Five failures in a row lock the account for 15 minutes; a success resets the count.
    `replaces`: the secret of the login this one replaces in a local cache; a successful
    login revokes it (when this database knows it and it has not expired), so logging in
    again and again leaves one live login, not one per run.
    """
    if ttl <= timedelta(0):
        raise ValidationFailed("expires: must be longer than 0s")
    now = clock.utcnow()
    name = username.strip()
    # A name no user can have (NUL, quotes, 10 kB) is never sent to the database.
    # The row stays locked until the commit, so concurrent failures all count (PostgreSQL).
    user = uow.users.get_by_username(name, for_update=True) if USERNAME_RE.fullmatch(name) else None
    if user is None:
        verify_password(_dummy_hash(), password)
        raise NotAuthenticated(LOGIN_FAILED)
    if user.locked_until is not None and user.locked_until > now:
        verify_password(_dummy_hash(), password)
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
    if replaces is not None:
        _revoke_replaced(uow, replaces, now)
    read = token_read(token)
    uow.commit()
    return secret, read


def _revoke_replaced(uow: UnitOfWork, secret: str, now: datetime) -> None:
    old = _token_by_secret(uow, secret)
    if old is not None and token_state(old, now) in (TokenState.ACTIVE, TokenState.USER_DISABLED):
        old.revoked_at = now


def _token_by_secret(uow: UnitOfWork, secret: str) -> ApiToken | None:
    """The token with this secret, or None; a string no token can be is never looked up."""
    secret = secret.strip()
    if not secret.startswith(TOKEN_PREFIX) or not secret.isascii():
        return None
    return uow.tokens.get_by_hash(hash_token(secret))


def bootstrap_admin(uow: UnitOfWork, username: str, password: str) -> UserRead:
    """Create the first admin. Raises `ValidationFailed` when users already exist."""
    if uow.users.count() > 0:
        raise ValidationFailed("the database already has users; use `orderctl users create`")
    username = check_username(username)
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


# ---- tokens (DESIGN.md §3): `auth status`, `auth logout`, `auth token create/list/revoke` ----


def _acting_user(uow: UnitOfWork, actor: Actor) -> User:
    user = uow.users.get(actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise NotAuthenticated(f"user {actor.username!r} is not known to this database")
    return user


@requires(Role.VIEWER)
def current_login(uow: UnitOfWork, actor: Actor) -> tuple[UserRead, TokenRead | None]:
    """The acting user and the token they act with (None for a system actor)."""
    user = _acting_user(uow, actor)
    token = uow.tokens.get(actor.token_id) if actor.token_id is not None else None
    return UserRead.model_validate(user), None if token is None else token_read(token)


def logout(uow: UnitOfWork, secret: str) -> TokenRead | None:
    """Revoke the token with this secret; None when the database does not know it.

    Holding the secret is the proof, so this works for an expired token or a disabled user
    too (like `login`, it needs no actor). A revoked token keeps its first `revoked_at`.
    """
    token = _token_by_secret(uow, secret)
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = clock.utcnow()
    read = token_read(token)
    uow.commit()
    return read


@requires(Role.VIEWER)
def create_token(
    uow: UnitOfWork,
    actor: Actor,
    *,
    name: str,
    ttl: timedelta | None = DEFAULT_TOKEN_TTL,
    username: str | None = None,
) -> tuple[str, TokenRead]:
    """Create a named token for automation; return (secret, token). `ttl=None`: never expires.

    Anyone may create tokens for themselves; a token for another user needs the admin role.
    Raises `ValidationFailed` (bad name or expiry), `PermissionDenied`, `NotFound` (user),
    `RuleViolation` (the user is disabled).
    """
    data = parse(TokenCreate, {"name": name})
    if ttl is not None and ttl <= timedelta(0):
        raise ValidationFailed("expires: must be longer than 0s (or `never`)")
    own = _acting_user(uow, actor)
    user = own
    if username is not None and username.strip() != own.username:
        check_role(actor, Role.ADMIN)
        user = find_user(uow, username)
    if not user.active:
        raise ValidationFailed(f"user {user.username!r} is disabled; enable it first")
    secret, token = _issue_token(uow, user, name=data.name, ttl=ttl, created_by=actor.username)
    read = token_read(token)
    uow.commit()
    return secret, read


@requires(Role.VIEWER)
def list_tokens(uow: UnitOfWork, actor: Actor, *, all_users: bool = False) -> list[TokenRead]:
    """The actor's own tokens, or with `all_users` everyone's (admin only), oldest first.

    Revoked and expired tokens are listed too (until `maintenance purge-tokens` removes them);
    each document's `state` says whether it works now (`token_state`).
    """
    now = clock.utcnow()
    if all_users:
        check_role(actor, Role.ADMIN)
        return [token_read(t, now) for t in uow.tokens.list()]
    return [token_read(t, now) for t in uow.tokens.list(user_id=_acting_user(uow, actor).id)]


@dataclass(frozen=True)
class RevokePlan:
    """What `revoke_token` will do; revoking another user's live token is confirmed first."""

    token: TokenRead
    own: bool

    @property
    def needs_confirmation(self) -> bool:
        return not self.own and self.token.revoked_at is None


def _token_to_revoke(uow: UnitOfWork, actor: Actor, token_id: int) -> ApiToken:
    # Out of the id column's range (SQLite cannot even bind it): no such token.
    token = uow.tokens.get(token_id) if 0 < token_id < 2**31 else None
    if token is None:
        raise NotFound(f"token {token_id} not found")
    if token.user_id != actor.user_id:
        check_role(actor, Role.ADMIN)
    return token


@requires(Role.VIEWER)
def plan_revoke(uow: UnitOfWork, actor: Actor, token_id: int) -> RevokePlan:
    """The token `revoke_token` would revoke, checked the same way; changes nothing.

    Raises `NotFound` (exit 5) and `PermissionDenied` (exit 4, another user's token).
    """
    token = _token_to_revoke(uow, actor, token_id)
    return RevokePlan(token_read(token), own=token.user_id == actor.user_id)


@requires(Role.VIEWER)
def revoke_token(uow: UnitOfWork, actor: Actor, token_id: int) -> TokenRead:
    """Revoke a token by id: one's own, or (admin) anyone's. Revoking twice changes nothing.

    Raises `NotFound` (exit 5) and `PermissionDenied` (exit 4, another user's token).
    """
    token = _token_to_revoke(uow, actor, token_id)
    if token.revoked_at is None:
        token.revoked_at = clock.utcnow()
    read = token_read(token)
    uow.commit()
    return read


def check_username(username: str) -> str:
    """The stripped name, or `ValidationFailed` (exit 6) when no user could have it."""
    name = username.strip()
    if not USERNAME_RE.fullmatch(name):
        shown = name if len(name) <= 70 else name[:64] + "…"
        raise ValidationFailed(
            f"username: {shown!r} is not a valid username "
            "(1 to 64 ASCII letters, digits, or . _ @ + -)"
        )
    return name


def find_user(uow: UnitOfWork, username: str) -> User:
    """The user with this exact name. Raises `ValidationFailed` (malformed) or `NotFound`."""
    return uow.users.get_one_by_username(check_username(username))
