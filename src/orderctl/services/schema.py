"""Schema migrations with Alembic (DESIGN.md §10). Alembic is imported only here.

This service works on a database at any revision, or with no schema at all, so it talks to
the engine and Alembic directly instead of through a unit of work and the repositories
(which assume the latest schema).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from orderctl.db import Database, current_revision, translate_errors
from orderctl.enums import Role
from orderctl.errors import UsageError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import Engine

    from orderctl.services.access import Actor


def _find_migrations() -> Path:
    """The Alembic environment: `orderctl/migrations` in an installed wheel (the build maps the
    top-level `migrations/` there), else `migrations/` at the top of a source checkout, which
    is where an editable install finds it."""
    package = Path(__file__).resolve().parent.parent
    candidates = (package / "migrations", package.parent.parent / "migrations")
    found = next((path for path in candidates if (path / "env.py").is_file()), None)
    # None found is a broken install; Alembic's error then names the path it looked at.
    return found or candidates[0]


MIGRATIONS_DIR = _find_migrations()


def alembic_config(db: Database) -> Config:
    """An Alembic config for this database, using the migrations in `MIGRATIONS_DIR`."""
    cfg = alembic_config_without_db()
    cfg.attributes["engine"] = db.engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = alembic_config_without_db()
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def alembic_config_without_db() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the schema; returns (revision before, revision after)."""
    from alembic import command
    from alembic.util import CommandError

    before = current(db)
    with translate_errors(db):
        try:
            command.upgrade(alembic_config(db), revision)
        except CommandError as exc:
            raise UsageError(f"cannot upgrade to {revision!r}: {exc}") from None
    return before, current(db)


def downgrade(db: Database, revision: str) -> tuple[str | None, str | None]:
    """Downgrade the schema to `revision` (`base` removes everything)."""
    from alembic import command
    from alembic.util import CommandError

    db.check_exists()
    before = current(db)
    with translate_errors(db):
        try:
            command.downgrade(alembic_config(db), revision)
        except CommandError as exc:
            raise UsageError(f"cannot downgrade to {revision!r}: {exc}") from None
    return before, current(db)


def current(db: Database) -> str | None:
    """The revision the database is at, or None for an empty (or missing, not created) one."""
    if db.sqlite_file is not None and not db.sqlite_file.exists():
        return None
    with translate_errors(db), db.engine.connect() as conn:
        return current_revision(conn)


class Migration(TypedDict):
    """A migration as `db history` prints it."""

    revision: str
    down_revision: str | None
    message: str | None


def history() -> list[Migration]:
    """Every migration, newest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config_without_db())
    return [
        {
            "revision": rev.revision,
            "down_revision": rev.down_revision if isinstance(rev.down_revision, str) else None,
            "message": rev.doc,
        }
        for rev in script.walk_revisions()
    ]


# ---- `db downgrade`: what it will drop, and who may run it (DESIGN.md §18) ----

#: Table name -> its column names.
Layout = dict[str, set[str]]


@dataclass(frozen=True)
class DowngradePlan:
    """What `downgrade(db, plan.target_arg)` will do, counted before it runs."""

    database: str
    current: str | None
    target: str | None  # None: base, the empty database
    dropped_tables: dict[str, int]  # table -> rows it holds
    dropped_columns: dict[str, int]  # "table.column" -> rows with a value in it
    users: int  # users in the database now (0 when it has no users table)

    @property
    def needs_confirmation(self) -> bool:
        return self.current != self.target

    @property
    def needs_admin(self) -> bool:
        """A database that has users is downgraded only by one of its admins."""
        return self.users > 0

    @property
    def target_arg(self) -> str:
        """The resolved target as Alembic takes it (a relative `-1` is pinned by the plan)."""
        return self.target or "base"


def plan_downgrade(db: Database, revision: str) -> DowngradePlan:
    """Resolve `revision` below the current one and count what the downgrade drops.

    The tables and columns each revision has come from running the migrations on a scratch
    in-memory SQLite database, so a plan needs no knowledge written into the migrations.
    Raises `UsageError` (2, a revision that is unknown or not below the current one),
    `DatabaseUnavailable` (7).
    """
    from alembic.script import ScriptDirectory

    db.check_exists()  # a missing SQLite file is exit 7, and is not created
    script = ScriptDirectory.from_config(alembic_config_without_db())
    current_rev = current(db)
    target = _resolve_downgrade_target(script, current_rev, revision)
    if current_rev == target:
        return DowngradePlan(db.display_url, current_rev, target, {}, {}, _count_users(db))
    before, after = _layout_at(current_rev), _layout_at(target)
    tables = sorted(set(before) - set(after))
    columns = sorted(
        (name, col) for name in set(before) & set(after) for col in before[name] - after[name]
    )
    with translate_errors(db), db.engine.connect() as conn:
        from sqlalchemy import column, func, select, table

        dropped_tables = {
            name: int(conn.scalar(select(func.count()).select_from(table(name))) or 0)
            for name in tables
        }
        dropped_columns = {
            f"{name}.{col}": int(
                conn.scalar(
                    select(func.count()).select_from(table(name)).where(column(col).is_not(None))
                )
                or 0
            )
            for name, col in columns
        }
    return DowngradePlan(
        db.display_url, current_rev, target, dropped_tables, dropped_columns, _count_users(db)
    )


def authorize_downgrade(plan: DowngradePlan, actor: Actor | None) -> None:
    """Raise `NotAuthenticated` (3) or `PermissionDenied` (4) unless `actor` may run `plan`:
    a database with users needs one of its admins; one with none needs no login."""
    from orderctl.errors import NotAuthenticated
    from orderctl.services.access import check_role

    if not plan.needs_admin:
        return
    if actor is None:
        raise NotAuthenticated(
            f"{plan.database} has users: `db downgrade` needs an admin login "
            "(run `orderctl auth login`)"
        )
    check_role(actor, Role.ADMIN)


def _resolve_downgrade_target(
    script: ScriptDirectory, current: str | None, revision: str
) -> str | None:
    """The revision id `revision` names (None for base), checked to be `current` or below."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    text = revision.strip()
    if not text:
        raise UsageError("cannot downgrade: no revision given (a revision id, -1, or base)")
    if text == "base":
        return None
    if current is None:
        raise UsageError(f"cannot downgrade to {revision!r}: the database has no schema")
    below = [s.revision for s in script.iterate_revisions(current, "base")]
    if re.fullmatch(r"-\d+", text):
        steps = int(text[1:])
        if steps > len(below):
            raise UsageError(
                f"cannot downgrade to {revision!r}: "
                f"{current} is only {len(below)} step(s) above base"
            )
        return below[steps] if steps < len(below) else None
    try:
        target = script.get_revision(text)
    except (CommandError, RevisionError) as exc:
        raise UsageError(f"cannot downgrade to {revision!r}: {exc}") from None
    if target is None or target.revision not in below:
        raise UsageError(
            f"cannot downgrade to {revision!r}: it is not the current revision ({current}) "
            "or one below it"
        )
    return target.revision


def _layout_at(revision: str | None) -> Layout:
    """The tables and columns of the schema at `revision`, from a scratch migration."""
    if revision is None:
        return {}
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    # StaticPool: every connection Alembic opens is the same in-memory database.
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        cfg = alembic_config_without_db()
        cfg.attributes["engine"] = engine
        command.upgrade(cfg, revision)
        return _layout(engine)
    finally:
        engine.dispose()


def _layout(engine: Engine) -> Layout:
    from sqlalchemy import inspect

    from orderctl.tables import is_search_table

    insp = inspect(engine)
    return {
        name: {c["name"] for c in insp.get_columns(name)}
        for name in insp.get_table_names()
        if name != "alembic_version" and not is_search_table(name)
    }


def _count_users(db: Database) -> int:
    from sqlalchemy import func, inspect, select, table

    with translate_errors(db), db.engine.connect() as conn:
        if not inspect(conn).has_table("users"):
            return 0
        return int(conn.scalar(select(func.count()).select_from(table("users"))) or 0)
