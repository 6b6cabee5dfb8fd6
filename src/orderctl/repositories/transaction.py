"""What a repository works on: one transaction, seen as an ORM session or as a Core connection.

The unit of work (`services.uow.UnitOfWork`) is one: its session is made on first use, and
`connection()` is the session's when there is one, else a Core connection of the unit's own
(the same transaction either way). A repository's Core paths ask for `connection()` only, so
a request that runs nothing but Core statements (`POST /api/orders`, `GET /api/orders/{id}`)
never makes a session: making one and routing each statement through it cost about as much
as one of those statements (docs/performance.md, *HTTP API*).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session


class Transaction(Protocol):
    """A transaction as repositories see it (`UnitOfWork`, or `OfSession` for a plain session)."""

    @property
    def session(self) -> Session:
        """The transaction's ORM session (made on first use)."""
        ...

    def connection(self) -> Connection:
        """The transaction as a Core connection (no session made for it)."""
        ...


class OfSession:
    """A plain session as a `Transaction` (a forked stream reader's own session)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def connection(self) -> Connection:
        return self.session.connection()


class OnTransaction:
    """The base of a repository on a `Transaction`: `self.session` for ORM work (made on first
    use), `self.tx.connection()` for Core statements."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    @property
    def session(self) -> Session:
        return self.tx.session

    @property
    def dialect(self) -> str:
        """The backend's name (`sqlite`, `postgresql`)."""
        return self.tx.connection().dialect.name
