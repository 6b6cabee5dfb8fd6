"""Two status changes of one order at once (DESIGN.md §5: compare-and-set), forced to overlap.

PostgreSQL: both changes load the order (pending) and pass the transition check, then meet at
a barrier placed right before the compare-and-set, so both UPDATEs really race; one wins, the
other finds the status changed and gets `Conflict`.
SQLite: a writer takes the write lock at BEGIN, so the overlap cannot happen at all: while the
first change waits right before its compare-and-set, no other writer can begin; the second
change starts after the first committed, sees its result and is refused. Both are exit 6.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from orderctl.db import Database
from orderctl.enums import OrderStatus
from orderctl.errors import Conflict, DatabaseBusy, InvalidTransition, OrderctlError
from orderctl.models import OrderEvent, Product
from orderctl.repositories.orders import OrderRepository
from orderctl.schemas import OrderCreate
from orderctl.services import orders
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

WAIT = 30  # seconds; only reached when the test is broken, never part of a passing run


def _pending_order(database: Database, actor: Actor) -> int:
    """A pending order holding 2 of 10 tracked units (8 left)."""
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="RACE-1", name="Racer", unit_price=Decimal("4.00"), stock=10))
        u.commit()
    data = OrderCreate.model_validate(
        {"customer_email": "race@example.com", "items": [{"sku": "RACE-1", "quantity": 2}]}
    )
    with UnitOfWork(database) as u:
        order, _ = orders.create_order(u, actor, data)
    return order.id


def _change(database: Database, actor: Actor, order_id: int, status: str) -> Any:
    """Run one status change in its own unit of work (its own connection); the result or error."""
    try:
        with UnitOfWork(database) as u:
            return orders.set_status(u, actor, order_id, OrderStatus(status), reason=status)
    except Exception as exc:  # compared below, with the other thread's result
        return exc


def _in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(work()))
    thread.start()
    return thread, box


def _race(
    backend: str, database: Database, actor: Actor, order_id: int, first: str, second: str,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:  # fmt: skip
    """Both changes, overlapping as far as the backend allows; each one's result or error."""
    compare_and_set = OrderRepository.compare_and_set_status
    if backend == "postgresql":
        barrier = threading.Barrier(2, timeout=WAIT)

        def meet(self: OrderRepository, *args: Any, **kwargs: Any) -> bool:
            barrier.wait()  # both have loaded the pending order and passed the checks
            return compare_and_set(self, *args, **kwargs)

        monkeypatch.setattr(OrderRepository, "compare_and_set_status", meet)
        one, a = _in_thread(lambda: _change(database, actor, order_id, first))
        two, b = _in_thread(lambda: _change(database, actor, order_id, second))
        for thread in (one, two):
            thread.join(WAIT)
        return {"first": a[0], "second": b[0]}

    parked, go = threading.Event(), threading.Event()

    def park(self: OrderRepository, *args: Any, **kwargs: Any) -> bool:
        parked.set()
        assert go.wait(WAIT)
        return compare_and_set(self, *args, **kwargs)

    monkeypatch.setattr(OrderRepository, "compare_and_set_status", park)
    one, a = _in_thread(lambda: _change(database, actor, order_id, first))
    assert parked.wait(WAIT)
    monkeypatch.setattr(OrderRepository, "compare_and_set_status", compare_and_set)
    try:
        # The first change sits between its load and its compare-and-set: no writer may begin.
        with pytest.raises(DatabaseBusy), UnitOfWork(database, wait=False) as u:
            u.session.execute(select(1))
        two, b = _in_thread(lambda: _change(database, actor, order_id, second))
    finally:
        go.set()
        one.join(WAIT)
    two.join(WAIT)
    return {"first": a[0], "second": b[0]}


@pytest.mark.parametrize(
    ("first", "second"), [("cancelled", "paid"), ("cancelled", "cancelled"), ("paid", "paid")]
)
def test_two_changes_from_pending_have_one_winner(
    backend: str, database: Database, operator: Actor, monkeypatch: pytest.MonkeyPatch,
    first: str, second: str,
) -> None:  # fmt: skip
    order_id = _pending_order(database, operator)
    results = _race(backend, database, operator, order_id, first, second, monkeypatch)

    errors = {k: v for k, v in results.items() if isinstance(v, Exception)}
    assert len(errors) == 1, results  # exactly one change won
    [(loser, error)] = errors.items()
    winner_status = first if loser == "second" else second
    assert isinstance(error, OrderctlError) and error.exit_code == 6, repr(error)
    if backend == "postgresql":
        # Both passed the transition check from pending: only the compare-and-set stops one.
        assert type(error) is Conflict and "changed by someone else" in error.message
    else:
        assert loser == "second" and isinstance(error, InvalidTransition), repr(error)

    with UnitOfWork(database, write=False) as u:
        changes = u.session.execute(
            select(OrderEvent.from_status, OrderEvent.to_status)
            .where(OrderEvent.order_id == order_id, OrderEvent.action == "status_changed")
        ).all()  # fmt: skip
        stock = u.products.get_one_by_sku("RACE-1").stock
        status = orders.get_order(u, operator, order_id).status
    assert [tuple(c) for c in changes] == [("pending", winner_status)]
    assert status.value == winner_status
    assert stock == (10 if winner_status == "cancelled" else 8)  # released at most once
