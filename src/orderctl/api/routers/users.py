"""`/api/users` (admin): list, create, and change one thing of a user (§3).

A PATCH changes exactly one of `role`, `active`, `password`: each is its own service call with
its own commit, so combining them could leave half of a request applied when the second part
fails (for example demoting the last admin). One change per request keeps "all or nothing".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from orderctl.api.deps import ReadUow, WriteUow, role_of
from orderctl.api.jsonbody import JsonRoute
from orderctl.enums import Role
from orderctl.schemas import UserCreate, UserRead
from orderctl.services import users
from orderctl.services.access import Actor

router = APIRouter(route_class=JsonRoute, prefix="/api/users", tags=["users"])

UsernamePath = Annotated[str, Path(max_length=64)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]


class UserChange(BaseModel):
    """Exactly one of: a new role, enabling/disabling, a new password (clears a lockout)."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    active: bool | None = None
    password: Password | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> UserChange:
        given = [name for name in ("role", "active", "password") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of role, active, password")
        return self


@router.get("", response_model=list[UserRead])
def list_users(uow: ReadUow, actor: Annotated[Actor, role_of(users.list_users)]) -> list[UserRead]:
    """Every user, disabled ones included, by username."""
    return users.list_users(uow, actor)


@router.post("", response_model=UserRead, status_code=201)
def create_user(
    body: UserCreate, uow: WriteUow, actor: Annotated[Actor, role_of(users.create_user)]
) -> UserRead:
    """Create an active user; 409 when the name exists (in any case)."""
    return users.create_user(uow, actor, body.username, role=body.role, password=body.password)


@router.patch("/{username}", response_model=UserRead)
def change_user(
    username: UsernamePath,
    body: UserChange,
    uow: WriteUow,
    actor: Annotated[Actor, role_of(users.set_role)],
) -> UserRead:
    """Set the role, enable/disable, or reset the password; 422 for the last active admin."""
    if body.role is not None:
        return users.set_role(uow, actor, username, body.role)
    if body.active is not None:
        if body.active:
            return users.enable_user(uow, actor, username)
        return users.disable_user(uow, actor, username)
    assert body.password is not None
    return users.reset_password(uow, actor, username, body.password)
