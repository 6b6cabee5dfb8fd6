"""User administration (DESIGN.md §3): create, list, disable, enable, set-role, reset-password.

Admin only. The last active admin can be neither disabled nor demoted, so the database always
keeps someone who can administer it. Every change records its actor in `updated_by`.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderctl import clock
from orderctl.enums import Role, TokenState
from orderctl.errors import Conflict, RuleViolation
from orderctl.models import User
from orderctl.schemas import PasswordSet, UserCreate, UserRead, parse
from orderctl.services.access import Actor, requires
from orderctl.services.auth import check_username, find_user, hash_password, token_state
from orderctl.services.uow import UnitOfWork


@requires(Role.ADMIN)
def create_user(
    uow: UnitOfWork, actor: Actor, username: str, *, role: Role, password: str
) -> UserRead:
    """Create an active user. Raises `ValidationFailed` (name, password) and `Conflict`.

    A name that differs from an existing one only in case is a conflict too (`Bob` vs `bob`).
    """
    data = parse(
        UserCreate, {"username": check_username(username), "role": role, "password": password}
    )
    existing = uow.users.get_by_username_ci(data.username)
    if existing is not None:
        raise Conflict(f"user {existing.username!r} already exists")
    user = uow.users.add(
        User(
            username=data.username,
            password_hash=hash_password(data.password),
            role=data.role.value,
            active=True,
            failed_logins=0,
            updated_by=actor.username,
        )
    )
    read = UserRead.model_validate(user)
    uow.commit()
    return read


@requires(Role.ADMIN)
def list_users(uow: UnitOfWork, actor: Actor) -> list[UserRead]:
    """Every user, disabled ones included, by username."""
    return [UserRead.model_validate(u) for u in uow.users.list()]


def _keep_an_admin(uow: UnitOfWork, user: User, change: str, *, lock: bool = True) -> None:
    """Refuse `change` of the last active admin; `lock=False` only looks (a plan)."""
    if not (user.role == Role.ADMIN.value and user.active):
        return
    admins = uow.users.lock_active_admins() if lock else uow.users.count_active_admins()
    if admins <= 1:
        raise RuleViolation(
            f"cannot {change}: {user.username!r} is the last active admin "
            "(make another user admin first)"
        )


@dataclass(frozen=True)
class DisablePlan:
    """What `disable_user` will do: `active_tokens` stop working (asked about unless the
    user is disabled already)."""

    user: UserRead
    active_tokens: int

    @property
    def needs_confirmation(self) -> bool:
        return self.user.active


@requires(Role.ADMIN)
def plan_disable(uow: UnitOfWork, actor: Actor, username: str) -> DisablePlan:
    """What disabling `username` would do, checked like `disable_user`; changes nothing.

    Raises `NotFound`, `ValidationFailed` (malformed name), `RuleViolation` (last admin).
    """
    user = find_user(uow, username)
    _keep_an_admin(uow, user, f"disable {user.username!r}", lock=False)
    now = clock.utcnow()
    live = sum(token_state(t, now) is TokenState.ACTIVE for t in uow.tokens.list(user_id=user.id))
    return DisablePlan(UserRead.model_validate(user), active_tokens=live)


@requires(Role.ADMIN)
def disable_user(uow: UnitOfWork, actor: Actor, username: str) -> UserRead:
    """Disable a user; their tokens are refused from the next command on.

    Raises `NotFound`, `ValidationFailed` (malformed name), `RuleViolation` (last admin).
    """
    user = find_user(uow, username)
    if user.active:
        _keep_an_admin(uow, user, f"disable {user.username!r}")
        user.active = False
        user.updated_by = actor.username
    read = UserRead.model_validate(user)
    uow.commit()
    return read


@requires(Role.ADMIN)
def enable_user(uow: UnitOfWork, actor: Actor, username: str) -> UserRead:
    """Enable a disabled user (their unexpired, unrevoked tokens work again). Raises `NotFound`."""
    user = find_user(uow, username)
    if not user.active:
        user.active = True
        user.updated_by = actor.username
    read = UserRead.model_validate(user)
    uow.commit()
    return read


@requires(Role.ADMIN)
def set_role(uow: UnitOfWork, actor: Actor, username: str, role: Role) -> UserRead:
    """Change a user's role; effective at their next command.

    Raises `NotFound`, `ValidationFailed`, `RuleViolation` (demoting the last active admin).
    """
    user = find_user(uow, username)
    role = Role(role)
    if user.role != role.value:
        if role is not Role.ADMIN:
            _keep_an_admin(uow, user, f"make {user.username!r} {role.value}")
        user.role = role.value
        user.updated_by = actor.username
    read = UserRead.model_validate(user)
    uow.commit()
    return read


@requires(Role.ADMIN)
def reset_password(uow: UnitOfWork, actor: Actor, username: str, password: str) -> UserRead:
    """Set a new password and clear a lockout (failed-login count and lock time).

    Existing tokens stay valid (revoke them with `auth token revoke`, or disable the user).
    Raises `NotFound`, `ValidationFailed` (malformed name, password shorter than 8).
    """
    user = find_user(uow, username)
    data = parse(PasswordSet, {"password": password})
    user.password_hash = hash_password(data.password)
    user.failed_logins = 0
    user.locked_until = None
    user.updated_by = actor.username
    read = UserRead.model_validate(user)
    uow.commit()
    return read
