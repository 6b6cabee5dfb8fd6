"""The unit of work: one transaction, with the repositories bound to its session (or, for
the Core-only repositories, to its connection)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import exc

from orderctl.db import Database, new_session, translate, translate_errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from orderctl.repositories.access import AccessRepository
    from orderctl.repositories.customers import CustomerRepository
    from orderctl.repositories.events import EventRepository
    from orderctl.repositories.lookups import LookupRepository
    from orderctl.repositories.maintenance import MaintenanceRepository
    from orderctl.repositories.orders import OrderRepository
    from orderctl.repositories.products import ProductRepository
    from orderctl.repositories.reports import ReportRepository
    from orderctl.repositories.stock import StockRepository
    from orderctl.repositories.tokens import TokenRepository
    from orderctl.repositories.users import UserRepository

_REPOSITORIES = (
    "access", "users", "tokens", "customers", "products", "stock", "orders", "maintenance",
    "events",
    "lookups",
    "reports",
)  # fmt: skip


class UnitOfWork:
    """`with UnitOfWork(db) as uow: ...; uow.commit()`; leaving without commit rolls back.

    `write=False` opens a plain read transaction; on SQLite a write unit takes the write lock
    at BEGIN so concurrent writers queue. `wait=False` makes a writer give up at once
    (`DatabaseBusy`) instead of queueing: SQLite's write lock, PostgreSQL row locks (after
    100 ms). SQLAlchemy errors leave as orderctl errors.

    Each repository is made (and its module imported) on first use: the read paths of
    `access` and of the order listing (`orders.page`, `orders.stream`) use Core tables only,
    so a command that just checks its token and lists orders never imports the ORM models
    (start-up, docs/performance.md). The ORM session itself is made on first use too:
    `access` and `reports` run on the unit's Core `connection()`, so a report never imports
    `sqlalchemy.orm`. Both faces are one transaction: a session made after the connection
    joins it, a connection asked for after the session is the session's.
    """

    def __init__(self, db: Database, *, write: bool = True, wait: bool = True) -> None:
        self.db = db
        self.write = write
        self.wait = wait
        self._core: Connection | None = None  # the unit's own Core connection, if opened

    def __enter__(self) -> UnitOfWork:
        for name in ("session", *_REPOSITORIES):  # made again if the unit is reused
            self.__dict__.pop(name, None)
        self._core = None
        return self

    @cached_property
    def session(self) -> Session:
        """The unit's ORM session, made on first use (on the unit's connection if one is
        open: the same transaction)."""
        if self._core is None:
            return new_session(self.db, write=self.write, wait=self.wait)
        from sqlalchemy.orm import Session

        # The default join mode leaves the connection's transaction to the unit: `commit()`
        # and `__exit__` end it.
        return Session(bind=self._core, expire_on_commit=False)

    def connection(self) -> Connection:
        """The unit's transaction as a Core connection, for repositories that need no ORM:
        the session's when there is one, else a connection of the unit's own (opened on
        first use with the unit's write and lock-wait options)."""
        if "session" in self.__dict__:
            return self.session.connection()
        if self._core is None:
            with translate_errors(self.db):
                self._core = self.db.engine_for(write=self.write, wait=self.wait).connect()
        return self._core

    @cached_property
    def access(self) -> AccessRepository:
        from orderctl.repositories.access import AccessRepository

        return AccessRepository(self.connection)

    @cached_property
    def users(self) -> UserRepository:
        from orderctl.repositories.users import UserRepository

        return UserRepository(self.session)

    @cached_property
    def tokens(self) -> TokenRepository:
        from orderctl.repositories.tokens import TokenRepository

        return TokenRepository(self.session)

    @cached_property
    def customers(self) -> CustomerRepository:
        from orderctl.repositories.customers import CustomerRepository

        return CustomerRepository(self)

    @cached_property
    def products(self) -> ProductRepository:
        from orderctl.repositories.products import ProductRepository

        return ProductRepository(self)

    @cached_property
    def stock(self) -> StockRepository:
        from orderctl.repositories.stock import StockRepository

        return StockRepository(self)

    @cached_property
    def orders(self) -> OrderRepository:
        from orderctl.repositories.orders import OrderRepository

        return OrderRepository(self, self.db)

    @cached_property
    def maintenance(self) -> MaintenanceRepository:
        from orderctl.repositories.maintenance import MaintenanceRepository

        return MaintenanceRepository(self.session)

    @cached_property
    def events(self) -> EventRepository:
        from orderctl.repositories.events import EventRepository

        return EventRepository(self.session, self.db)

    @cached_property
    def lookups(self) -> LookupRepository:
        from orderctl.repositories.lookups import LookupRepository

        return LookupRepository(self.session)

    @cached_property
    def reports(self) -> ReportRepository:
        from orderctl.repositories.reports import ReportRepository

        return ReportRepository(self.connection, self.db.engine.dialect.name)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the transaction that can fail alone: an error inside undoes only this
        part, and a driver error leaves as an orderctl error (`db.translate`: a duplicate key
        is `DuplicateKey`, a missing reference `MissingReference`)."""
        try:
            with self.session.begin_nested():
                yield
        except exc.SQLAlchemyError as error:
            mapped = translate(error, self.db)
            if mapped is None:
                raise
            raise mapped from error

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if "session" in self.__dict__:
                self.session.rollback()
            if self._core is not None:
                self._core.rollback()
        except exc.SQLAlchemyError:
            pass  # the original error matters more than a failed rollback
        finally:
            if "session" in self.__dict__:
                self.session.close()
            if self._core is not None:
                self._core.close()
        if isinstance(exc_value, exc.SQLAlchemyError):
            mapped = translate(exc_value, self.db)
            if mapped is not None:
                raise mapped from exc_value

    def commit(self) -> None:
        """Commit; a failure leaves as an orderctl error (a lost connection is exit 7)."""
        with translate_errors(self.db):
            if "session" in self.__dict__:
                self.session.commit()
            if self._core is not None:
                self._core.commit()

    def rollback(self) -> None:
        """Roll back what the unit did so far; it can go on in a new transaction."""
        if "session" in self.__dict__:
            self.session.rollback()
        if self._core is not None:
            self._core.rollback()
