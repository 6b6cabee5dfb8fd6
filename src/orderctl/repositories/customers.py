"""Queries on customers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import bindparam, case, func, select, update

from orderctl import tables
from orderctl.errors import DuplicateKey
from orderctl.models import Customer, Order
from orderctl.repositories.search import customer_ids
from orderctl.repositories.skip_conflict import insert_or_skip
from orderctl.repositories.transaction import OnTransaction

_c = tables.customers
_BY_EMAIL = select(_c.c.id, _c.c.name).where(_c.c.email == bindparam("email"))
_NAME = (
    update(_c)
    .where(_c.c.id == bindparam("cid"), _c.c.name.is_(None))
    .values(name=bindparam("new_name"))
)


class StoredCustomer(NamedTuple):
    """A customer's id and name (None: none given yet), as `CustomerRepository.ensure` left them."""

    id: int
    name: str | None


class CustomerRepository(OnTransaction):
    def add(self, customer: Customer) -> Customer:
        self.session.add(customer)
        self.session.flush()
        return customer

    def get_by_email(self, email: str) -> Customer | None:
        stmt = select(Customer).where(Customer.email == email.strip().lower())
        return self.session.scalars(stmt).one_or_none()

    def ensure(
        self, email: str, name: str | None, *, created_by: str, at: datetime
    ) -> StoredCustomer:
        """The id and name of the customer with this (normalised) email, created when new
        (Core: one read, and an insert for a new customer).

        Callers pass a validated, lower-cased email. A name given for an existing customer
        that has none fills it in; an existing name is never overwritten by an order. When
        a concurrent transaction creates the same customer first, the insert skips the row
        (`ON CONFLICT DO NOTHING`; PostgreSQL waits for that transaction) and theirs is
        read again: no savepoint, nothing undone.
        """
        connection = self.tx.connection()
        found = connection.execute(_BY_EMAIL, {"email": email}).first()
        if found is None:
            insert = insert_or_skip(connection.dialect.name, _c, _c.c.email, _c.c.id)
            new = {"email": email, "name": name or None, "created_at": at, "created_by": created_by}
            new_id = connection.execute(insert, new).scalar()
            if new_id is not None:
                return StoredCustomer(int(new_id), name or None)
            found = connection.execute(_BY_EMAIL, {"email": email}).first()
            if found is None:  # the row that conflicted is gone again: a real error to show
                raise DuplicateKey(f"customer {email!r} was created and deleted meanwhile; retry")
        customer_id, stored_name = found
        if name and not stored_name:
            connection.execute(_NAME, {"cid": customer_id, "new_name": name})
            stored_name = name
        return StoredCustomer(int(customer_id), stored_name)

    def page(
        self, *, after: str | None = None, limit: int = 30, search: str | None = None
    ) -> Sequence[Customer]:
        """Up to `limit` customers ordered by email, after the email `after` (keyset, no OFFSET);
        with `search`, those whose email or name holds it in any case (`repositories.search`).

        The unique index on `email` serves both the order and the `email > after` seek.
        """
        stmt = select(Customer).order_by(Customer.email).limit(limit)
        if after is not None:
            stmt = stmt.where(Customer.email > after)
        if search is not None:
            dialect = self.session.get_bind().dialect.name
            stmt = stmt.where(Customer.id.in_(customer_ids(dialect, search)))
        return self.session.scalars(stmt).all()

    def forget_loaded(self) -> None:
        """Drop the customers loaded so far from the session (a long keyset walk keeps its
        identity map from growing page after page); they are not changed."""
        self.session.expunge_all()

    def get_with_stats(
        self, email: str, spending: Iterable[str]
    ) -> tuple[Customer, int, dict[str, Decimal]] | None:
        """The customer with this email, its number of orders and, per currency, the sum of
        the totals of its orders in `spending` statuses (amounts of two currencies are never
        added: DESIGN.md §5): one query (outer join, GROUP BY the customer and the currency)."""
        statuses = list(spending)
        spent = func.sum(case((Order.status.in_(statuses), Order.total)), type_=Order.total.type)
        stmt = (
            select(Customer, Order.currency, func.count(Order.id), spent)
            .outerjoin(Order, Order.customer_id == Customer.id)
            .where(Customer.email == email.strip().lower())
            .group_by(Customer.id, Order.currency)
            .order_by(Order.currency)
        )
        rows = self.session.execute(stmt).all()
        if not rows:
            return None
        count = sum(int(row[2]) for row in rows)
        # SQLite sums NUMERIC as float; two places is what the column holds.
        totals = {
            currency: Decimal(str(total)).quantize(Decimal("0.01"))
            for _, currency, _, total in rows
            if currency is not None and total is not None
        }
        return rows[0][0], count, totals
