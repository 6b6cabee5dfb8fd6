"""The token check that every command makes, as Core queries on `orderctl.tables`.

No ORM models here: they are not imported by a command that only reads (start-up,
docs/performance.md). Tokens are created and listed by `TokenRepository`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from orderctl.tables import api_tokens, users
from orderctl.token_check import TOKEN_CHECK_COLUMNS, TokenCheck

_TABLES = {"api_tokens": api_tokens, "users": users}


class AccessRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def token(self, token_hash: str) -> TokenCheck | None:
        """The token with this hash and its user (one query), or None."""
        t, u = api_tokens.c, users.c
        stmt = (
            select(*(_TABLES[table].c[name] for table, name in TOKEN_CHECK_COLUMNS))
            .join_from(api_tokens, users, u.id == t.user_id)
            .where(t.token_hash == token_hash)
        )
        row = self.session.execute(stmt).first()
        return None if row is None else TokenCheck(*row)

    def touch(self, token_id: int, now: datetime) -> None:
        """Set a token's `last_used_at` (one UPDATE)."""
        self.session.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
        )
