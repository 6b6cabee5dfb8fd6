"""Order events in the order a follower hands them out (`events tail`, `GET /api/events`).

An event's place is its *position* `(txid, id)`. On PostgreSQL `txid` is the transaction that
wrote it: ids are taken at INSERT and two writers can commit out of id order, so a reader
hands out only *settled* events, those whose transaction is older than every transaction
still running (`pg_snapshot_xmin` of the statement's own snapshot). Every event that can still
appear has a txid at or above that horizon, so it sorts after every position handed out:
nothing is missed, nothing repeats. On SQLite one writer holds the write lock from its first
write to its commit, so ids commit in id order; txid is 0 and the position is the id.

Waking up (docs/events.md): PostgreSQL LISTENs on a dedicated connection for the NOTIFY the
trigger of migration 0005 sends at commit, and looks again every `RECHECK` seconds anyway (a
lost notification, a pooler that drops LISTEN: only a delay); SQLite polls every
`SQLITE_POLL` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnClause, Select, literal_column, select, tuple_
from sqlalchemy.orm import Session

from orderctl import tables
from orderctl.db import Database, translate
from orderctl.errors import DatabaseUnavailable

e = tables.order_events
orders = tables.orders

#: (writing transaction, event id); `START` comes before every event.
Position = tuple[int, int]
START: Position = (0, 0)

#: The channel migration 0005's trigger notifies at the commit of every INSERT statement.
CHANNEL = "orderctl_order_events"
#: PostgreSQL: the longest a follower sleeps without a notification before it looks again.
RECHECK = 1.0
#: SQLite: how often a follower looks for new events.
SQLITE_POLL = 0.25

#: The oldest transaction still running, as of this statement's snapshot (PostgreSQL).
_HORIZON: ColumnClause[int] = literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
)

#: Waits until something may have changed, at most the given seconds (`wake_ups`).
Wait = Callable[[float], None]


class EventRepository:
    """Reads of `order_events` by position; the filters are plain values (service-checked)."""

    def __init__(self, session: Session, db: Database) -> None:
        self.session = session
        self.db = db

    def _settled(self, query: Select[Any]) -> Select[Any]:
        if self.db.is_sqlite:
            return query
        return query.where(e.c.txid < _HORIZON)

    def _documents(
        self, order_id: int | None, actions: tuple[str, ...]
    ) -> Select[Any]:  # the event document, joined with its order's external_ref
        query = select(
            e.c.txid,
            e.c.id,
            e.c.order_id,
            orders.c.external_ref,
            e.c.at,
            e.c.actor,
            e.c.action,
            e.c.from_status,
            e.c.to_status,
            e.c.reason,
        ).join(orders, orders.c.id == e.c.order_id)
        if order_id is not None:
            query = query.where(e.c.order_id == order_id)
        if actions:
            query = query.where(e.c.action.in_(actions))
        return self._settled(query)

    def position_of(self, event_id: int) -> Position:
        """The position of event `event_id`; for an id that is not (or no longer) there, that
        of the nearest earlier event, so a cursor naming a purged event still works."""
        row = self.session.execute(
            select(e.c.txid).where(e.c.id <= event_id).order_by(e.c.id.desc()).limit(1)
        ).first()
        return (0 if row is None else int(row[0]), event_id)

    def head(self) -> Position:
        """The position of the newest settled event (`START` when there is none)."""
        query = self._settled(select(e.c.txid, e.c.id))
        row = self.session.execute(query.order_by(e.c.txid.desc(), e.c.id.desc()).limit(1)).first()
        return START if row is None else (int(row[0]), int(row[1]))

    def after(
        self, position: Position, *, order_id: int | None, actions: tuple[str, ...], limit: int
    ) -> list[tuple[Position, dict[str, Any]]]:
        """Up to `limit` settled events after `position`, in position order, each with its
        position."""
        query = self._documents(order_id, actions).where(
            tuple_(e.c.txid, e.c.id) > tuple_(*position)
        )
        return _rows(self.session.execute(query.order_by(e.c.txid, e.c.id).limit(limit)))

    def up_to(
        self, position: Position, *, order_id: int | None, actions: tuple[str, ...], limit: int
    ) -> list[tuple[Position, dict[str, Any]]]:
        """The last `limit` settled events at or before `position`, in position order."""
        query = self._documents(order_id, actions).where(
            tuple_(e.c.txid, e.c.id) <= tuple_(*position)
        )
        rows = self.session.execute(query.order_by(e.c.txid.desc(), e.c.id.desc()).limit(limit))
        return _rows(rows)[::-1]

    @contextmanager
    def wake_ups(self) -> Iterator[Wait]:
        """A `wait(seconds)` that returns when new events may have been committed, or after at
        most `seconds` (and at most `RECHECK`, or `SQLITE_POLL` on SQLite).

        Enter it before the first read: a commit between that read and the first wait still
        wakes it. Raises `ConnectionLost`/`DatabaseUnavailable` (exit 7) when the database
        goes away, an SQLite file included.
        """
        if self.db.is_sqlite:
            yield self._poll
            return
        try:
            raw = self.db.engine.raw_connection()
        except Exception as error:
            raise _translated(error, self.db) from error
        try:
            listener: Any = raw.driver_connection
            try:
                listener.autocommit = True
                listener.execute(f"LISTEN {CHANNEL}")
            except Exception as error:
                raise _translated(error, self.db) from error

            def wait(seconds: float) -> None:
                try:
                    for _ in listener.notifies(timeout=min(seconds, RECHECK), stop_after=1):
                        pass
                except Exception as error:
                    raise _translated(error, self.db) from error

            yield wait
        finally:
            raw.invalidate()  # a connection that LISTENs never goes back to the pool

    def _poll(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, SQLITE_POLL)))
        path = self.db.sqlite_file
        if path is not None and not path.exists():
            # An open connection keeps reading a deleted file: say so instead of waiting forever.
            raise DatabaseUnavailable(f"database file {path} is gone")


def _translated(error: Exception, db: Database) -> Exception:
    return translate(error, db) or error


def _rows(result: Any) -> list[tuple[Position, dict[str, Any]]]:
    rows = []
    for row in result.mappings():
        doc = dict(row)
        position = (int(doc.pop("txid")), int(doc["id"]))
        rows.append((position, doc))
    return rows
