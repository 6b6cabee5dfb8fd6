"""Queries on customers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from orderctl.errors import NotFound
from orderctl.models import Customer


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

    def get_one_by_email(self, email: str) -> Customer:
        """Raise `NotFound` when there is no such customer."""
        customer = self.get_by_email(email)
        if customer is None:
            raise NotFound(f"customer {email!r} not found")
        return customer

    def get_or_create(self, email: str, name: str | None, *, created_by: str) -> Customer:
        """The customer with this (normalised) email, created when new.

        Callers pass a validated, lower-cased email. A name given for an existing customer
        that has none fills it in; an existing name is never overwritten by an order.
        """
        customer = self.get_by_email(email)
        if customer is None:
            return self.add(Customer(email=email, name=name or None, created_by=created_by))
        if name and not customer.name:
            customer.name = name
        return customer
