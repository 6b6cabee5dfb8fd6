"""The token check that every command makes, as Core queries on `orderctl.tables`.

No ORM models here: they are not imported by a command that only reads (start-up,
docs/performance.md). Tokens are created and listed by `TokenRepository`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from orderctl.db import Database, translate_errors
from orderctl.tables import api_tokens, users
from orderctl.token_check import TOKEN_CHECK_COLUMNS, TokenCheck

_TABLES = {"api_tokens": api_tokens, "users": users}

#: Built once: the check runs on every command and every API request. The columns are the
#: ones the lean completion path selects too (token_check.TOKEN_CHECK_COLUMNS).
_TOKEN = (
    select(*(_TABLES[table].c[name] for table, name in TOKEN_CHECK_COLUMNS))
    .join_from(api_tokens, users, users.c.id == api_tokens.c.user_id)
    .where(api_tokens.c.token_hash == bindparam("token_hash"))
)


def find_token(connection: Connection, token_hash: str) -> TokenCheck | None:
    """The token with this hash and its user (one query on the unique hash index), or None.
    On a plain connection: a token check needs no ORM session."""
    row = connection.execute(_TOKEN, {"token_hash": token_hash}).first()
    return None if row is None else TokenCheck(*row)


def lookup_token(db: Database, token_hash: str) -> TokenCheck | None:
    """`find_token` on a connection of its own: one read, no unit of work or ORM session
    made for it (the check runs before every command and API request)."""
    with translate_errors(db), db.engine.connect() as connection:
        return find_token(connection, token_hash)


class AccessRepository:
    """On the unit of work's Core connection: recording a token's use imports no ORM."""

    def __init__(self, connection: Callable[[], Connection]) -> None:
        self.connection = connection

    def touch(self, token_id: int, now: datetime) -> None:
        """Set a token's `last_used_at` (one UPDATE)."""
        self.connection().execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
        )
