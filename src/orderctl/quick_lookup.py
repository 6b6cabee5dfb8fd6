"""Completion look-ups through the bare driver (sqlite3 or psycopg), for the lean path that
answers a shell's Tab press (cli/quick_complete.py) without SQLAlchemy, Pydantic or typer.

The same reads as `services.lookups.values_starting_with` after `authenticate(...,
record_use=False)`: the token check (`token_check`) and one prefix query on the kind's unique
index (`lookup_rules`), the same rules, as SQL text for the driver. Nothing is written: SQLite
is opened read-write only if the file exists (never created), no `last_used_at` is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from orderctl import clock
from orderctl.config import load_settings
from orderctl.credentials import load_token
from orderctl.enums import LookupKind
from orderctl.lookup_rules import (
    COLUMNS,
    MAX_CANDIDATES,
    READ_ROLE,
    prefix_bounds,
    starting_with,
    typed_prefix,
)
from orderctl.token_check import (
    TOKEN_CHECK_COLUMNS,
    TokenCheck,
    actor_of,
    check_role,
    checked_secret,
    hash_token,
)

#: One query on a connection: (SQL with `{p}` for each parameter, parameters) -> rows.
Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]

_TOKEN_SQL = (
    f"SELECT {', '.join(f'{table}.{name}' for table, name in TOKEN_CHECK_COLUMNS)} "
    "FROM api_tokens JOIN users ON users.id = api_tokens.user_id "
    "WHERE api_tokens.token_hash = {p}"
)


def lookup(database_url: str | None, context: str | None) -> Callable[[LookupKind, str], list[str]]:
    """A look-up of stored values (kind, prefix -> values) in the database the flags, the
    environment and the config file name (`config.load_settings`), as the login cached for it
    or `ORDERCTL_TOKEN`. Each call connects once; any problem is raised."""
    url = load_settings(database_url, context).database_url

    def values(kind: LookupKind, prefix: str) -> list[str]:
        cached = load_token(url)
        if cached is None:
            return []
        secret = checked_secret(cached.token)
        with _connection(url) as query:
            rows = query(_TOKEN_SQL, (hash_token(secret),))
            check_role(actor_of(_token(rows[0]) if rows else None, clock.utcnow()), READ_ROLE[kind])
            prefix = typed_prefix(kind, prefix)
            return starting_with((row[0] for row in query(*_prefix_query(kind, prefix))), prefix)

    return values


def _token(row: tuple[Any, ...]) -> TokenCheck:
    token_id, expires, revoked, used, user_id, username, role, active = row
    at = clock.as_utc
    times = at(expires), at(revoked), at(used)
    return TokenCheck(token_id, *times, user_id, username, role, bool(active))


def _prefix_query(kind: LookupKind, prefix: str) -> tuple[str, tuple[Any, ...]]:
    """The SQL of `repositories.lookups.query`: a walk of the column's unique index."""
    table, name = COLUMNS[kind]
    where, params = [f"{name} IS NOT NULL"], []
    if prefix:
        low, high = prefix_bounds(prefix)
        where.append(f"{name} >= {{p}}")
        params.append(low)
        if high is not None:
            where.append(f"{name} < {{p}}")
            params.append(high)
    sql = f"SELECT {name} FROM {table} WHERE {' AND '.join(where)} ORDER BY {name} LIMIT {{p}}"
    return sql, (*params, MAX_CANDIDATES)


@contextmanager
def _connection(url: str) -> Iterator[Query]:
    """A connection to the database of an orderctl URL (`config.normalize_database_url`'s
    forms), as a function running one query."""
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        import sqlite3

        # mode=rw opens an existing file only: a Tab press never creates a database.
        path = rest.removeprefix("/")
        if not path or path == ":memory:" or path.startswith("file:") or "?" in path:
            raise ValueError("not a plain SQLite file")
        conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True)
        try:
            yield lambda sql, params: conn.execute(sql.replace("{p}", "?"), params).fetchall()
        finally:
            conn.close()
        return
    import psycopg

    # The connection settings of `db.make_engine` for PostgreSQL.
    with psycopg.connect(
        f"postgresql://{rest}",
        connect_timeout=5,
        application_name="orderctl",
        prepare_threshold=None,
        autocommit=True,
    ) as pg:
        yield lambda sql, params: pg.execute(sql.replace("{p}", "%s"), params).fetchall()
