"""Schema migrations with Alembic (DESIGN.md §10). Alembic is imported only here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from orderctl.db import Database, current_revision, translate_errors
from orderctl.errors import UsageError

if TYPE_CHECKING:
    from alembic.config import Config


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

    before = current(db)
    with translate_errors(db):
        try:
            command.downgrade(alembic_config(db), revision)
        except CommandError as exc:
            raise UsageError(f"cannot downgrade to {revision!r}: {exc}") from None
    return before, current(db)


def current(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with translate_errors(db), db.engine.connect() as conn:
        return current_revision(conn)


def history() -> list[dict[str, str | None]]:
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
