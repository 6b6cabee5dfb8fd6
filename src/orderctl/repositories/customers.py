"""Queries on customers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from orderctl.models import Customer, Order
from orderctl.repositories.search import customer_ids


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, customer: Customer) -> Customer:
        self.session.add(customer)
        self.session.flush()
        return customer

    def get_by_email(self, email: str) -> Customer | None:
        stmt = select(Customer).where(Customer.email == email.strip().lower())
        return self.session.scalars(stmt).one_or_none()

    def get_or_create(self, email: str, name: str | None, *, created_by: str) -> Customer:
        """The customer with this (normalised) email, created when new.

        Callers pass a validated, lower-cased email. A name given for an existing customer
        that has none fills it in; an existing name is never overwritten by an order.
        """
        customer = self.get_by_email(email)
        if customer is None:
            try:
                # A savepoint: when a concurrent transaction creates the same customer first
                # (PostgreSQL), only this insert is undone and theirs is used.
                with self.session.begin_nested():
                    return self.add(Customer(email=email, name=name or None, created_by=created_by))
            except IntegrityError:
                customer = self.get_by_email(email)
                if customer is None:
                    raise
        if name and not customer.name:
            customer.name = name
        return customer

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
