"""The token check that every command makes, as Core queries on `orderctl.tables`.

No ORM models here: they are not imported by a command that only reads (start-up,
docs/performance.md). Tokens are created and listed by `TokenRepository`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from orderctl.tables import api_tokens, users


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """What a token check needs of a token and its user."""

    token_id: int
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    user_id: int
    username: str
    role: str
    active: bool


_t, _u = api_tokens.c, users.c
#: Built once: the check runs on every command and every API request.
_TOKEN = (
    select(_t.id, _t.expires_at, _t.revoked_at, _t.last_used_at)
    .add_columns(_u.id, _u.username, _u.role, _u.active)
    .join_from(api_tokens, users, _u.id == _t.user_id)
    .where(_t.token_hash == bindparam("token_hash"))
)


def find_token(connection: Connection, token_hash: str) -> TokenCheck | None:
    """The token with this hash and its user (one query on the unique hash index), or None.
    On a plain connection: a token check needs no ORM session."""
    row = connection.execute(_TOKEN, {"token_hash": token_hash}).first()
    return None if row is None else TokenCheck(*row)


class AccessRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def token(self, token_hash: str) -> TokenCheck | None:
        """The token with this hash and its user (one query), or None."""
        return find_token(self.session.connection(), token_hash)

    def touch(self, token_id: int, now: datetime) -> None:
        """Set a token's `last_used_at` (one UPDATE)."""
        self.session.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
        )
