"""Queries on users."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orderctl.enums import Role
from orderctl.errors import NotFound
from orderctl.models import User


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def get_by_username(self, username: str, *, for_update: bool = False) -> User | None:
        """`for_update` locks the row until the transaction ends (PostgreSQL; SQLite write
        units already hold the database lock)."""
        stmt = select(User).where(User.username == username)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def get_by_username_ci(self, username: str) -> User | None:
        """The user whose name equals `username` ignoring case (to refuse look-alike names)."""
        stmt = select(User).where(func.lower(User.username) == username.lower()).limit(1)
        return self.session.scalars(stmt).first()

    def get_one_by_username(self, username: str) -> User:
        """Raise `NotFound` when there is no such user."""
        user = self.get_by_username(username)
        if user is None:
            raise NotFound(f"user {username!r} not found")
        return user

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(User)) or 0

    def count_active_admins(self) -> int:
        stmt = select(func.count()).where(User.role == Role.ADMIN.value, User.active.is_(True))
        return self.session.scalar(stmt) or 0

    def lock_active_admins(self) -> int:
        """Count the active admins, locking their rows until the transaction ends.

        Two concurrent demotions of the last two admins cannot both see "another admin
        remains": on PostgreSQL the rows are locked (FOR UPDATE); on SQLite a write unit of
        work already holds the database write lock from BEGIN.
        """
        stmt = (
            select(User.id)
            .where(User.role == Role.ADMIN.value, User.active.is_(True))
            .order_by(User.id)
            .with_for_update()
        )
        return len(self.session.scalars(stmt).all())

    def list(self) -> Sequence[User]:
        return self.session.scalars(select(User).order_by(User.username)).all()
