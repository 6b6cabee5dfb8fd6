"""The status transition table of DESIGN.md §5, every (from, to) pair of the six statuses, on
both faces: `orders set-status` (exit 0 / 6) and `POST /api/orders/{id}/status` (200 / 409).

Each test builds one database with an order per pair (through the services), then tries every
pair once, so 36 changes cost one fixture per face and backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

import pytest
from sqlalchemy import select

from helpers import Api, Cli, database_snapshot
from orderctl.db import Database
from orderctl.enums import OrderStatus, Role
from orderctl.models import Order, OrderEvent, Product
from orderctl.schemas import OrderCreate
from orderctl.services import orders
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")

#: Written out from DESIGN.md §5 rather than imported from `enums.TRANSITIONS`: the test
#: holds the code to the contract, so a wrong entry in the code's table must not agree with it.
ALLOWED: dict[str, set[str]] = {
    "pending": {"paid", "cancelled"},
    "paid": {"shipped", "cancelled", "refunded"},
    "shipped": {"delivered", "refunded"},
    "delivered": {"refunded"},
    "cancelled": set(),
    "refunded": set(),
}

#: How an order reaches each status from pending, one allowed change at a time.
ROUTE: dict[str, tuple[str, ...]] = {
    "pending": (),
    "paid": ("paid",),
    "shipped": ("paid", "shipped"),
    "delivered": ("paid", "shipped", "delivered"),
    "cancelled": ("cancelled",),
    "refunded": ("paid", "refunded"),
}

PAIRS = [(old, new) for old in STATUSES for new in STATUSES]
SKU = "TRN-01"
QUANTITY = 3
REASON = "checked «§5» ✓"


@dataclass(frozen=True)
class Outcome:
    """What a face answered: success, the error text (stderr line or `detail`), the document."""

    ok: bool
    code: int
    message: str
    document: dict[str, object] | None


Change = Callable[[int, str], Outcome]


def test_the_routes_follow_the_table() -> None:
    for target, steps in ROUTE.items():
        statuses = ("pending", *steps)
        assert statuses[-1] == target
        assert all(b in ALLOWED[a] for a, b in pairwise(statuses))
    assert sum(len(targets) for targets in ALLOWED.values()) == 8


def _orders_per_pair(database: Database, actor: Actor) -> dict[tuple[str, str], int]:
    """One order for each (from, to) pair, already in `from`, made through the services."""
    with UnitOfWork(database) as u:
        u.products.add(Product(sku=SKU, name="Transit", unit_price=Decimal("2.50"), stock=1000))
        u.commit()
    made = {}
    for old, new in PAIRS:
        data = OrderCreate.model_validate(
            {
                "customer_email": "table@example.com",
                "external_ref": f"{old}-to-{new}",
                "items": [{"sku": SKU, "quantity": QUANTITY}],
            }
        )
        with UnitOfWork(database) as u:
            order, _ = orders.create_order(u, actor, data)
        for step in ROUTE[old]:
            with UnitOfWork(database) as u:
                orders.set_status(u, actor, order.id, OrderStatus(step))
        made[(old, new)] = order.id
    return made


def _stored(database: Database, order_id: int) -> tuple[str, list[tuple[object, ...]], int]:
    """The order's status, its events (action, from, to, actor, reason) and the stock."""
    with UnitOfWork(database, write=False) as u:
        status = u.session.scalar(select(Order.status).where(Order.id == order_id))
        events = u.session.execute(
            select(
                OrderEvent.action,
                OrderEvent.from_status,
                OrderEvent.to_status,
                OrderEvent.actor,
                OrderEvent.reason,
            )
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id)
        )
        stock = u.session.scalar(select(Product.stock).where(Product.sku == SKU))
        assert status is not None and stock is not None
        return status, [tuple(e) for e in events], stock


def _refusal_problem(old: str, new: str, message: str) -> str | None:
    """What is wrong with the message refusing old → new (None: it says what §5 asks)."""
    if old == new:
        return None if f"is already {old}" in message else "does not say 'already'"
    if not ALLOWED[old]:
        return None if "a final status" in message else "does not say 'final status'"
    if f"from {old} to {new}" not in message or "allowed: " not in message:
        return "does not name the change and the allowed statuses"
    named = set(message.split("allowed: ", 1)[1].strip().split(", "))
    return None if named == ALLOWED[old] else f"names {sorted(named)} as allowed"


def _check_every_pair(database: Database, actor: str, change: Change) -> list[str]:
    """Try each pair once on its own order; return every way the face broke the table."""
    made = _orders_per_pair(database, _actor(database, actor))
    problems = []
    for (old, new), order_id in made.items():
        pair = f"{old} -> {new}"
        before_status, before_events, before_stock = _stored(database, order_id)
        assert before_status == old, pair
        before = database_snapshot(database)
        outcome = change(order_id, new)
        if new in ALLOWED[old]:
            status, events, stock = _stored(database, order_id)
            released = QUANTITY if new == "cancelled" else 0
            expected_event = ("status_changed", old, new, actor, REASON)
            if not outcome.ok or outcome.document is None:
                problems.append(f"{pair}: refused ({outcome.code}: {outcome.message})")
            elif outcome.document["status"] != new:
                problems.append(f"{pair}: answered status {outcome.document['status']}")
            if status != new:
                problems.append(f"{pair}: stored status is {status}")
            if events != [*before_events, expected_event]:
                problems.append(f"{pair}: history {events[len(before_events) :]}")
            if stock != before_stock + released:
                problems.append(f"{pair}: stock went {before_stock} -> {stock}")
            continue
        if outcome.ok:
            problems.append(f"{pair}: allowed, but §5 forbids it")
            continue
        problem = _refusal_problem(old, new, outcome.message)
        if problem is not None:
            problems.append(f"{pair}: {problem}: {outcome.message!r}")
        if database_snapshot(database) != before:
            problems.append(f"{pair}: the refused change wrote to the database")
    return problems


def _actor(database: Database, username: str) -> Actor:
    with UnitOfWork(database, write=False) as u:
        user = u.users.get_one_by_username(username)
        return Actor(user_id=user.id, username=user.username, role=Role(user.role))


@pytest.fixture
def cli_change(cli: Cli) -> Iterator[Change]:
    cli.token(Role.OPERATOR)

    def change(order_id: int, status: str) -> Outcome:
        result = cli(
            "orders", "set-status", str(order_id), status, "--reason", REASON, "-o", "json",
            role=Role.OPERATOR,
        )  # fmt: skip
        if result.exit_code == 0:
            return Outcome(True, 0, "", json.loads(result.stdout))
        # A refusal is exit 6 and exactly one `error:` line, nothing on stdout.
        assert result.exit_code == 6, result.stderr
        assert result.stdout == "" and result.stderr.startswith("error: "), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        return Outcome(False, 6, result.stderr.strip(), None)

    yield change


@pytest.fixture
def api_change(api: Api) -> Iterator[Change]:
    api.token(Role.OPERATOR)

    def change(order_id: int, status: str) -> Outcome:
        r = api.post(
            f"/api/orders/{order_id}/status",
            role=Role.OPERATOR,
            json={"status": status, "reason": REASON},
        )
        if r.status_code == 200:
            return Outcome(True, 200, "", r.json())
        assert r.status_code == 409, r.text
        body = r.json()
        assert set(body) == {"detail"} and isinstance(body["detail"], str), body
        return Outcome(False, 409, body["detail"], None)

    yield change


def test_every_pair_through_the_cli(database: Database, cli_change: Change) -> None:
    assert _check_every_pair(database, "test-operator", cli_change) == []


def test_every_pair_through_the_api(database: Database, api_change: Change) -> None:
    assert _check_every_pair(database, "api-operator", api_change) == []
