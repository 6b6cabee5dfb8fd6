"""A create racing a create of the same external_ref, through the CLI and through the API: the
service replays the stored order (same content) or refuses (other content), for both faces.

The first create is held right before its commit (`HeldCommitUow`); the racing one starts
then. On PostgreSQL it gets past its look-up (nothing committed yet) and waits at the unique
index of `orders.external_ref` (seen in `pg_locks`), then loses there once the first commits:
the path of `DuplicateKey` in `services.orders.create_order`. On SQLite the racer queues for
the write lock and sees the stored order at once: same answers, simpler path.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from helpers import Api, Cli, HeldCommitUow
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import Product
from orderctl.schemas import OrderCreate
from orderctl.services import orders
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

REF = "RACE-REF-1"
WAIT = 30  # seconds; reached only when the test is broken


def _shop(database: Database, actor: Actor) -> None:
    """An untracked product and a known customer: the racer's only wait is the ref's index."""
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="MUG-01", name="Mug", unit_price=Decimal("12.50")))
        u.commit()
    first = {"customer_email": "ana@example.com", "items": [{"sku": "MUG-01", "quantity": 1}]}
    with UnitOfWork(database) as u:
        orders.create_order(u, actor, OrderCreate.model_validate(first))


def _waiting_on_a_lock(database: Database) -> bool:
    with database.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return bool(waiting)


def _race(database: Database, actor: Actor, racer: Callable[[], Any]) -> tuple[Any, Any]:
    """(the held create's result, the racer's result) with the racer started while the first
    create is done but not committed, and (PostgreSQL) blocked before it is let go."""
    ready, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}
    data = OrderCreate.model_validate(
        {
            "customer_email": "ana@example.com",
            "external_ref": REF,
            "items": [{"sku": "MUG-01", "quantity": 2}],
        }
    )

    def first() -> None:
        with HeldCommitUow(database, ready, release) as u:
            results["first"] = orders.create_order(u, actor, data)

    def second() -> None:
        results["second"] = racer()

    held = threading.Thread(target=first)
    held.start()
    assert ready.wait(WAIT)
    racing = threading.Thread(target=second)
    racing.start()
    if not database.is_sqlite:
        deadline = time.monotonic() + WAIT
        while not _waiting_on_a_lock(database):  # polls a fact; the order is decided by locks
            assert time.monotonic() < deadline, "the racing create never waited on the index"
            time.sleep(0.01)
    release.set()
    held.join(WAIT)
    racing.join(WAIT)
    assert not held.is_alive() and not racing.is_alive()
    return results["first"], results["second"]


@pytest.mark.parametrize("quantity", [2, 3], ids=["same content", "other content"])
def test_cli_create_racing_a_create(
    cli: Cli, database: Database, operator: Actor, quantity: int
) -> None:
    _shop(database, operator)
    args = ["orders", "create", "--customer", "ana@example.com", "--item", f"MUG-01:{quantity}"]
    (stored, created), result = _race(
        database,
        operator,
        lambda: cli(*args, "--external-ref", REF, "-o", "json", role=Role.OPERATOR),
    )
    assert created is True
    if quantity == 2:
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout) == stored.model_dump(mode="json")
    else:
        assert result.exit_code == 6, result.stderr
        assert result.stderr == (
            f"error: external_ref {REF!r} is already used by order {stored.id} with different "
            "content\n"
        )
    with UnitOfWork(database, write=False) as u:
        assert u.orders.get_by_external_ref(REF) is not None
        assert len(u.orders.events(stored.id)) == 1


@pytest.mark.parametrize("quantity", [2, 3], ids=["same content", "other content"])
def test_api_create_racing_a_create(
    api: Api, database: Database, operator: Actor, quantity: int
) -> None:
    _shop(database, operator)
    api.token(Role.OPERATOR)  # made before the race: its user is a write of its own
    body = {
        "customer_email": "ana@example.com",
        "items": [{"sku": "MUG-01", "quantity": quantity}],
    }
    (stored, created), response = _race(
        database,
        operator,
        lambda: api.post(
            "/api/orders", role=Role.OPERATOR, json=body, headers={"Idempotency-Key": REF}
        ),
    )
    assert created is True
    if quantity == 2:
        assert response.status_code == 200, response.text
        assert response.headers["Idempotent-Replayed"] == "true"
        assert response.json() == stored.model_dump(mode="json")
    else:
        assert response.status_code == 409, response.text
        assert "is already used by order" in response.json()["detail"]
