"""The context object built once in the root callback: settings, database and actor, all lazy.

(A Click context; the named databases of `orderctl context` are `orderctl.contexts`.)
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from orderctl.config import Settings
    from orderctl.db import Database
    from orderctl.services.access import Actor
    from orderctl.services.uow import UnitOfWork


@dataclass
class AppState:
    """What every command needs, built on first use so `--help` stays fast."""

    database_url_flag: str | None = None
    debug: bool = False
    #: `--context NAME` on this command line (DESIGN.md §17).
    context_flag: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)
    _checked: bool = field(default=False, repr=False)
    _read_db: Database | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            from orderctl.config import load_settings

            self._settings = load_settings(self.database_url_flag, self.context_flag)
        return self._settings

    def database(self) -> Database:
        """The configured database, not yet checked (for `init`, `db *`)."""
        if self._db is None:
            from orderctl.db import Database

            self._db = Database(self.settings().database_url)
        return self._db

    def ready_database(self) -> Database:
        """The database, checked reachable and migrated (exit 7 otherwise)."""
        db = self.database()
        if not self._checked:
            db.check_schema()
            self._checked = True
        return db

    def read_database(self) -> Database:
        """Where commands that only read data run their queries: the read replica when one is
        configured (DESIGN.md §19), checked reachable and migrated (exit 7 naming it: no
        silent fallback to the primary), else the primary."""
        replica_url = self.settings().read_database_url
        if replica_url is None:
            return self.ready_database()
        if self._read_db is None:
            from orderctl.db import Database
            from orderctl.errors import DatabaseUnavailable

            replica = Database(replica_url)
            try:
                replica.check_schema()
            except DatabaseUnavailable as exc:
                replica.dispose()
                raise DatabaseUnavailable(f"read replica: {exc.message}") from exc
            self._read_db = replica
        return self._read_db

    def uow(self, *, write: bool = True, replica: bool = False) -> UnitOfWork:
        """A unit of work on the checked database. `replica=True` (a command that only reads
        data) opens a read-only one on the read replica, when there is one."""
        from orderctl.services.uow import UnitOfWork

        if replica:
            return UnitOfWork(self.read_database(), write=False)
        return UnitOfWork(self.ready_database(), write=write)

    def actor(self) -> Actor:
        """The logged-in user: the database is checked first, then the token (exit 7, then 3)."""
        from orderctl.errors import NotAuthenticated

        actor = self.logged_in()
        if actor is None:
            db = self.database()
            raise NotAuthenticated(f"not logged in to {db.display_url}: run `orderctl auth login`")
        return actor

    def logged_in(self, *, migrated: bool = True) -> Actor | None:
        """Like `actor()`, but None when there is no token at all; a bad token is still exit 3.

        `migrated=False` checks the token on a database at any revision (`db downgrade`).
        """
        from orderctl.credentials import load_token
        from orderctl.errors import NotAuthenticated, TokenRefused
        from orderctl.services.access import authenticate

        db = self.ready_database() if migrated else self.database()
        cached = load_token(db.url)
        if cached is None:
            return None
        try:
            return authenticate(db, cached.token)
        except TokenRefused as exc:
            if cached.source != "ORDERCTL_TOKEN":
                raise
            # `auth login` would not help: the variable overrides whatever it caches.
            raise NotAuthenticated(
                f"the token in ORDERCTL_TOKEN {exc.problem}; unset it or set a valid one"
            ) from None

    def close(self) -> None:
        for db in (self._db, self._read_db):
            if db is not None:
                db.dispose()


def get_state(ctx: typer.Context) -> AppState:
    """The AppState of this invocation (created on demand when a sub-app is run alone)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState(debug=os.environ.get("ORDERCTL_DEBUG") == "1")
    _current.set(root.obj)
    return root.obj


#: The AppState of the command running now, for helpers every destructive command calls
#: without a Click context (`confirm`: a protected context, DESIGN.md §17).
_current: ContextVar[AppState | None] = ContextVar("orderctl_state", default=None)


def current_state() -> AppState:
    """The AppState of the command running now (a fresh one when none was made)."""
    return _current.get() or AppState(debug=os.environ.get("ORDERCTL_DEBUG") == "1")
