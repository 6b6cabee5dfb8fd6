"""The unit of work: one transaction, with the repositories bound to its session."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import exc
from sqlalchemy.orm import Session

from orderctl.db import Database, new_session, translate
from orderctl.repositories.customers import CustomerRepository
from orderctl.repositories.orders import OrderRepository
from orderctl.repositories.products import ProductRepository
from orderctl.repositories.tokens import TokenRepository
from orderctl.repositories.users import UserRepository


class UnitOfWork:
    """`with UnitOfWork(db) as uow: ...; uow.commit()`; leaving without commit rolls back.

    `write=False` opens a plain read transaction; on SQLite a write unit takes the write lock
    at BEGIN so concurrent writers queue. `wait=False` makes a writer give up at once
    (`DatabaseBusy`) instead of queueing: SQLite's write lock, PostgreSQL row locks (after
    100 ms). SQLAlchemy errors leave as orderctl errors.
    """

    session: Session
    users: UserRepository
    tokens: TokenRepository
    customers: CustomerRepository
    products: ProductRepository
    orders: OrderRepository

    def __init__(self, db: Database, *, write: bool = True, wait: bool = True) -> None:
        self.db = db
        self.write = write
        self.wait = wait

    def __enter__(self) -> UnitOfWork:
        self.session = new_session(self.db, write=self.write, wait=self.wait)
        self.users = UserRepository(self.session)
        self.tokens = TokenRepository(self.session)
        self.customers = CustomerRepository(self.session)
        self.products = ProductRepository(self.session)
        self.orders = OrderRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        except exc.SQLAlchemyError:
            pass  # the original error matters more than a failed rollback
        finally:
            self.session.close()
        if isinstance(exc_value, exc.SQLAlchemyError):
            mapped = translate(exc_value, self.db)
            if mapped is not None:
                raise mapped from exc_value

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
