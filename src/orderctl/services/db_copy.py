"""`orderctl db copy --to URL` (DESIGN.md §14): the whole database into an empty one, ids and
times kept, checked table by table at the end.

The target is checked before anything is written: a URL that names no usable database is a
usage error (2), the source itself or a target holding data is refused (6) and left as it
was, a server that cannot be reached is 7. An empty target without the schema (or at an older
revision) is migrated to this orderctl's revision first. The copy itself is one transaction
on the target (`repositories.copy`): a copy that is killed leaves the target empty, and the
next run starts again from the beginning (docs/database.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orderctl.db import SCHEMA_REVISION, Database
from orderctl.enums import Role
from orderctl.errors import ConfigError, Conflict, DatabaseUnavailable, UsageError
from orderctl.repositories import copy
from orderctl.services import schema
from orderctl.services.access import Actor, check_role


@dataclass(frozen=True)
class TableCheck:
    """One table on both sides after the copy: rows and checksum (SHA-256, hex)."""

    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def match(self) -> bool:
        return (self.source_rows, self.source_checksum) == (
            self.target_rows,
            self.target_checksum,
        )


@dataclass(frozen=True)
class CopyReport:
    """What `copy_database` did: where from and to, the target's revision before (None: no
    schema) and each table's comparison."""

    source: str
    target: str
    migrated_from: str | None
    tables: list[TableCheck]

    @property
    def ok(self) -> bool:
        return all(check.match for check in self.tables)

    @property
    def rows(self) -> int:
        return sum(check.source_rows for check in self.tables)


def open_target(source: Database, url: str) -> Database:
    """The `--to` database, checked as far as it can be without connecting.

    Raises `UsageError` (2) for a value that is not a database URL, or an SQLite path that is
    a directory or lies in a missing folder; `Conflict` (6) when it names the source.
    """
    from orderctl.config import normalize_database_url

    try:
        normalized = normalize_database_url(url)
    except ConfigError as exc:
        raise UsageError(f"--to: {exc}") from None
    target = Database(normalized)
    path = target.sqlite_file
    if path is not None and path.is_dir():
        target.dispose()
        raise UsageError(f"--to: {path} is a directory, not an SQLite database file")
    if path is not None and not path.parent.is_dir():
        target.dispose()
        raise UsageError(f"--to: folder {path.parent} does not exist")
    if copy.same_database(source, target):
        target.dispose()
        raise Conflict("--to names the source database itself; copy into another database")
    return target


def copy_database(
    source: Database,
    actor: Actor,
    target: Database,
    *,
    on_table: Callable[[str], None] | None = None,
) -> CopyReport:
    """Copy every table of the source into `target` (from `open_target`) and compare both.

    Needs an admin of the source. Raises `PermissionDenied` (4), `Conflict` (6) when the
    target holds data or another application's tables, `DatabaseUnavailable` (7) when it
    cannot be reached or has a schema this orderctl does not know.
    """
    check_role(actor, Role.ADMIN)
    before = _prepare(target)
    sums = copy.copy_tables(source, target, on_table=on_table)
    after = copy.table_sums(target)
    checks = [
        TableCheck(
            name, sums[name].rows, after[name].rows, sums[name].checksum, after[name].checksum
        )
        for name in sums
    ]
    return CopyReport(source.display_url, target.display_url, before, checks)


def _prepare(target: Database) -> str | None:
    """Refuse a target with data; migrate an empty one to `SCHEMA_REVISION`. Returns the
    revision it was at (None: no schema)."""
    revision = schema.current(target)
    holding = copy.tables_with_rows(target)
    if holding:
        raise Conflict(
            f"target {target.display_url} already holds data (in {', '.join(holding)}); "
            "db copy fills an empty database only: drop and create it again, or choose another"
        )
    if revision is None and (others := copy.foreign_tables(target)):
        raise Conflict(
            f"target {target.display_url} has tables that are not orderctl's "
            f"({', '.join(others[:5])}); db copy fills an empty database only"
        )
    if revision != SCHEMA_REVISION:
        known = {entry["revision"] for entry in schema.history()}
        if revision is not None and revision not in known:
            raise DatabaseUnavailable(
                f"target {target.display_url} has schema revision {revision}, which this "
                f"orderctl does not know (it copies at {SCHEMA_REVISION})"
            )
        schema.upgrade(target, SCHEMA_REVISION)
    return revision
