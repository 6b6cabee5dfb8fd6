"""Real processes racing on one database: no overselling, one winner per status change."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest

from helpers import ORDERCTL, Cli, HeldCommitUow
from orderctl.db import Database
from orderctl.enums import OrderStatus, Role
from orderctl.models import Product
from orderctl.schemas import OrderCreate
from orderctl.services import orders
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork


def _race(cli: Cli, commands: list[list[str]]) -> list[tuple[int, str]]:
    """Start every command at once and collect (exit code, stderr) of each."""
    env = cli.subprocess_env(Role.OPERATOR)
    procs = [
        subprocess.Popen(
            [ORDERCTL, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for args in commands
    ]
    results = []
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        results.append((proc.returncode, err))
    return results


def _stock(database: Database, sku: str) -> int | None:
    with UnitOfWork(database, write=False) as u:
        return u.products.get_one_by_sku(sku).stock


@pytest.mark.pgbouncer
def test_racing_buyers_never_oversell(cli: Cli, database: Database) -> None:
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="LAST-2", name="Last two", unit_price=Decimal("5.00"), stock=2))
        u.products.add(Product(sku="MUG-01", name="Mug", unit_price=Decimal("12.50"), stock=100))
        u.commit()
    buyers = 4  # processes are costly on a 2-core CI runner; 4 still race
    results = _race(
        cli,
        [
            ["orders", "create", "--customer", f"buyer{n}@example.com",
             "--item", "LAST-2:1", "--item", "MUG-01:1", "-o", "json"]
            for n in range(buyers)
        ],
    )  # fmt: skip
    codes = sorted(code for code, _ in results)
    assert codes == [0, 0] + [6] * (buyers - 2), results
    for code, err in results:
        if code == 6:
            # The winners took both units: nothing left for this one.
            assert err.startswith("error: insufficient stock for LAST-2: 0 left, 1 requested"), err
            assert err.count("\n") == 1 and "Traceback" not in err
    assert _stock(database, "LAST-2") == 0
    assert _stock(database, "MUG-01") == 98  # the losers' mugs were given back (rolled back)
    listed = cli("orders", "list", "-o", "jsonl", role=Role.VIEWER).stdout.splitlines()
    assert len(listed) == 2


@pytest.mark.pgbouncer
def test_concurrent_status_changes_have_one_winner(
    cli: Cli, database: Database, uow: Callable[..., UnitOfWork], operator: Actor
) -> None:
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="TEE-M", name="T-shirt", unit_price=Decimal("19.99"), stock=10))
        u.commit()
    data = OrderCreate.model_validate(
        {"customer_email": "ana@example.com", "items": [{"sku": "TEE-M", "quantity": 2}]}
    )
    with uow() as u:
        first, _ = orders.create_order(u, operator, data)
    with uow() as u:
        second, _ = orders.create_order(u, operator, data)
    assert _stock(database, "TEE-M") == 6
    results = _race(
        cli,
        [["orders", "set-status", str(first.id), "paid"] for _ in range(2)]
        + [["orders", "set-status", str(second.id), "cancelled"] for _ in range(2)],
    )
    paid, cancelled = results[:2], results[2:]
    for group in (paid, cancelled):
        assert sorted(code for code, _ in group) == [0, 6], group
        for code, err in group:
            if code == 6:
                assert err.startswith("error: order ") and "Traceback" not in err, err
    # The cancellation restocked exactly once.
    assert _stock(database, "TEE-M") == 8
    with uow(write=False) as u:
        history = orders.order_history(u, operator, second.id)
        assert [e.to_status for e in history] == ["pending", "cancelled"]
        assert orders.get_order(u, operator, first.id).status is OrderStatus.PAID


def test_compare_and_set_refuses_a_stale_status(
    uow: Callable[..., UnitOfWork], operator: Actor, database: Database
) -> None:
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="CAP-01", name="Cap", unit_price=Decimal("9.99")))
        u.commit()
    data = OrderCreate.model_validate(
        {"customer_email": "ana@example.com", "items": [{"sku": "CAP-01", "quantity": 1}]}
    )
    with uow() as u:
        order, _ = orders.create_order(u, operator, data)
    with uow() as u:
        from orderctl import clock

        now = clock.utcnow()
        # Someone else's view: "it is paid, ship it" -- but it is still pending.
        assert not u.orders.compare_and_set_status(order.id, "paid", "shipped", at=now)
        assert u.orders.compare_and_set_status(order.id, "pending", "paid", at=now)
        assert not u.orders.compare_and_set_status(order.id, "pending", "cancelled", at=now)
        u.commit()
    with uow(write=False) as u:
        assert orders.get_order(u, operator, order.id).status is OrderStatus.PAID


def test_racing_creates_of_one_ref_for_a_new_customer_all_succeed(
    cli: Cli, database: Database
) -> None:
    """Same external_ref, same new customer, at once: one order, the others replay it (exit 0)."""
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="MUG-01", name="Mug", unit_price=Decimal("12.50"), stock=100))
        u.commit()
    command = [
        "orders", "create", "--customer", "new.person@example.com", "--item", "MUG-01:2",
        "--external-ref", "RACE-1",
    ]  # fmt: skip
    results = _race(cli, [command] * 5)
    assert [code for code, _ in results] == [0] * 5, results
    with UnitOfWork(database, write=False) as u:
        assert u.orders.get_by_external_ref("RACE-1") is not None
        assert u.customers.get_by_email("new.person@example.com") is not None
    assert _stock(database, "MUG-01") == 98
    other = [*command[:-1], "RACE-2"]
    other[other.index("--customer") + 1] = "second.person@example.com"
    results = _race(cli, [other, [*other[:-2], "--external-ref", "RACE-3"]])
    assert [code for code, _ in results] == [0, 0], results


def test_a_create_overlapping_an_uncommitted_one_replays_it(cli: Cli, database: Database) -> None:
    """Forces the collision: the second create runs while the first holds its new order and
    new customer uncommitted; on PostgreSQL its INSERTs then fail and must replay, not exit 6."""
    actor = cli.actor(Role.OPERATOR)
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="MUG-01", name="Mug", unit_price=Decimal("12.50"), stock=9))
        u.commit()
    data = OrderCreate.model_validate(
        {
            "customer_email": "first.time@example.com",
            "external_ref": "HELD-1",
            "items": [{"sku": "MUG-01", "quantity": 2}],
        }
    )
    ready, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        with HeldCommitUow(database, ready, release) as u:
            results["first"] = orders.create_order(u, actor, data)

    def second() -> None:
        try:
            with UnitOfWork(database) as u:
                results["second"] = orders.create_order(u, actor, data)
        except Exception as exc:  # reported below, with the first thread's result
            results["second"] = exc

    t1 = threading.Thread(target=first)
    t1.start()
    assert ready.wait(30)
    t2 = threading.Thread(target=second)
    t2.start()
    time.sleep(0.5)  # the second create is now waiting on the first one's locks
    release.set()
    t1.join(30)
    t2.join(30)
    first_read, first_created = results["first"]  # type: ignore[misc]
    assert first_created is True
    assert not isinstance(results["second"], Exception), results["second"]
    second_read, second_created = results["second"]  # type: ignore[misc]
    assert second_created is False and second_read.id == first_read.id
    assert _stock(database, "MUG-01") == 7
