"""Queries on API tokens."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from orderctl.models import ApiToken


class TokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        self.session.flush()
        return token

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        stmt = (
            select(ApiToken)
            .options(joinedload(ApiToken.user))
            .where(ApiToken.token_hash == token_hash)
        )
        return self.session.scalars(stmt).one_or_none()

    def get(self, token_id: int) -> ApiToken | None:
        return self.session.get(ApiToken, token_id, options=[joinedload(ApiToken.user)])

    def list(self, *, user_id: int | None = None) -> Sequence[ApiToken]:
        """Tokens oldest first, with their users loaded in the same query; one user's or all."""
        stmt = select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.id)
        if user_id is not None:
            stmt = stmt.where(ApiToken.user_id == user_id)
        return self.session.scalars(stmt).all()
