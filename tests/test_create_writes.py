"""How `orders create` (and `POST /api/orders`) writes: Core statements in an order that keeps
the products' rows locked only for the reservations, the ledger rows and the commit; no
savepoint; a page's statement built once per filter shape (docs/performance.md, *HTTP API*).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal

import pytest
from sqlalchemy import text

from helpers import Cli, count_statements, rows, stock_ledger
from orderctl.db import Database
from orderctl.models import Product
from orderctl.order_filters import OrderFilters
from orderctl.repositories import products as product_repository
from orderctl.repositories.orders import _documents
from orderctl.schemas import OrderCreate
from orderctl.services import order_listing, orders
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

STATEMENTS = ("INSERT", "UPDATE", "SELECT", "DELETE")


def _shop(database: Database) -> None:
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="MUG", name="Mug", unit_price=Decimal("12.50"), stock=10))
        u.products.add(Product(sku="CAP", name="Cap", unit_price=Decimal("8.00"), stock=10))
        u.products.add(Product(sku="PIN", name="Pin", unit_price=Decimal("1.00")))
        u.commit()


def _order(email: str, *items: tuple[str, int]) -> OrderCreate:
    return OrderCreate.model_validate(
        {"customer_email": email, "items": [{"sku": s, "quantity": q} for s, q in items]}
    )


def test_a_create_holds_product_rows_only_for_reservations_ledger_and_commit(
    database: Database, operator: Actor
) -> None:
    _shop(database)
    with count_statements(database) as statements, UnitOfWork(database) as u:
        document, order_id, created = orders.create_order_document(
            u, operator, _order("new@example.com", ("MUG", 2), ("PIN", 1), ("CAP", 1))
        )
    assert created
    heads = [s.split()[:3] for s in statements if s.lstrip().upper().startswith(STATEMENTS)]
    first_lock = next(i for i, words in enumerate(heads) if words[:2] == ["UPDATE", "products"])
    after = {" ".join(words) for words in heads[first_lock:]}
    # Only the conditional stock UPDATEs (two tracked products) and the ledger's executemany.
    assert after == {"UPDATE products SET", "INSERT INTO stock_movements"}, heads
    assert not any("SAVEPOINT" in s.upper() for s in statements), statements
    assert json.loads(document)["id"] == order_id
    assert stock_ledger(database)["MUG"] == (8, 8)
    assert stock_ledger(database)["CAP"] == (9, 9)
    reserved = rows(
        database, "SELECT sku, reserved FROM order_items WHERE order_id = :o", o=order_id
    )
    assert dict(reserved) == {"MUG": 2, "PIN": 0, "CAP": 1}


def test_a_product_that_stops_tracking_stock_during_a_create_reserves_nothing(
    database: Database, operator: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog read sees MUG tracked; by its reservation it tracks no stock (a concurrent
    `products update --no-stock`, simulated by a stale read): the line reserves 0 and the
    ledger gets no row for it."""
    _shop(database)
    with UnitOfWork(database) as u:
        u.session.execute(text("UPDATE products SET stock = NULL WHERE sku = 'MUG'"))
        u.commit()
    read = product_repository.ProductRepository.catalog

    def stale(
        self: product_repository.ProductRepository, skus: Iterable[str]
    ) -> dict[str, product_repository.CatalogProduct]:
        return {sku: product._replace(stock=5) for sku, product in read(self, skus).items()}

    monkeypatch.setattr(product_repository.ProductRepository, "catalog", stale)
    with UnitOfWork(database) as u:
        _, order_id, _ = orders.create_order_document(
            u, operator, _order("a@example.com", ("MUG", 2))
        )
    assert rows(database, "SELECT reserved FROM order_items WHERE order_id = :o", o=order_id) == [
        (0,)
    ]
    assert rows(
        database, "SELECT count(*) FROM stock_movements WHERE order_id = :o", o=order_id
    ) == [(0,)]


def test_a_page_statement_is_built_once_per_shape_and_binds_its_values(
    cli: Cli, database: Database, viewer: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop(database)
    for email in ("ana@example.com", "bob@example.com", "bob@example.com"):
        assert cli("orders", "create", "--customer", email, "--item", "PIN:1").exit_code == 0
    built: dict[tuple[str, ...], object] = {}
    monkeypatch.setattr(_documents, "_BUILT", built)
    found = {}
    with UnitOfWork(database, write=False) as u:
        for email in ("ana@example.com", "bob@example.com"):
            page = order_listing.list_orders(u, viewer, OrderFilters(customer_email=email))
            found[email] = [item["customer"]["email"] for item in page.items]
    # One statement for both customers' pages (and one for their items).
    assert [key[1] for key in built].count("page") == 1, list(built)
    assert found == {
        "ana@example.com": ["ana@example.com"],
        "bob@example.com": ["bob@example.com", "bob@example.com"],
    }


def test_a_create_and_a_document_read_make_no_orm_session(
    database: Database, operator: Actor, backend: str
) -> None:
    """`POST /api/orders` and `GET /api/orders/{id}` run Core statements only, on the unit's
    own connection: no ORM session is made for them (repositories/transaction.py). On
    PostgreSQL the document of one order is one statement, its lines a subquery."""
    _shop(database)
    with UnitOfWork(database) as u:
        document, order_id, _ = orders.create_order_document(
            u, operator, _order("nosession@example.com", ("MUG", 1), ("PIN", 2))
        )
        assert "session" not in u.__dict__
    with count_statements(database) as statements, UnitOfWork(database, write=False) as u:
        assert u.orders.document(order_id=order_id) == document
        assert "session" not in u.__dict__
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == (2 if backend == "sqlite" else 1), selects
    assert [item["sku"] for item in json.loads(document)["items"]] == ["MUG", "PIN"]
