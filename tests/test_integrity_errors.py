"""`db.translate` tells a duplicate key from a missing reference, on both backends, so the
layers above the repositories never look at a driver's error."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orderctl.db import Database
from orderctl.errors import DuplicateKey, MissingReference
from orderctl.models import Product
from orderctl.services.uow import UnitOfWork


def test_a_taken_unique_key_is_duplicate_key(database: Database) -> None:
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="DUP-1", name="One", unit_price=Decimal("1.00")))
        u.commit()
    with UnitOfWork(database) as u:
        with pytest.raises(DuplicateKey) as caught, u.savepoint():
            u.products.add(Product(sku="DUP-1", name="Two", unit_price=Decimal("2.00")))
        # the savepoint undid only its part: the unit of work goes on
        assert u.products.get_one_by_sku("DUP-1").name == "One"
    assert caught.value.exit_code == 6
    assert caught.value.constraint in ("uq_products_sku", "products.sku")


def test_a_missing_reference_is_missing_reference(database: Database) -> None:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    row = {"order_id": 999_999, "at": at, "actor": "x", "action": "created"}
    with UnitOfWork(database) as u, pytest.raises(MissingReference) as caught, u.savepoint():
        u.maintenance.add_events([row])
    assert caught.value.exit_code == 6
    assert not isinstance(caught.value, DuplicateKey)
