"""`orderctl demo`: realistic sample data through the services, never duplicated."""

from __future__ import annotations

import json

import pytest

from helpers import Cli, database_snapshot, snapshot_column
from orderctl.db import Database
from orderctl.enums import OrderStatus, Role


@pytest.mark.pgbouncer
def test_demo_fills_once_and_is_idempotent(cli: Cli, database: Database) -> None:
    denied = cli("demo", "--orders", "3", role=Role.OPERATOR)
    assert denied.exit_code == 4 and "needs the admin role" in denied.stderr
    assert database_snapshot(database)["orders"] == []

    first = cli("demo", "--orders", "40", "-o", "json")
    assert first.exit_code == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["products_created"] == 12 and summary["orders_created"] == 40
    after = database_snapshot(database)
    assert len(after["orders"]) == 40 and len(after["customers"]) > 10
    assert len(after["order_events"]) > 40  # status changes recorded as history
    stock = snapshot_column(after, "products", "stock")
    assert all(level is None or level >= 0 for level in stock)
    statuses = set(snapshot_column(after, "orders", "status"))
    assert {OrderStatus.PENDING, OrderStatus.DELIVERED, OrderStatus.CANCELLED} <= statuses

    again = cli("demo", "--orders", "40", "-o", "json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout) == {
        "products_created": 0, "orders_created": 0, "orders_skipped": 40, "orders_out_of_stock": 0
    }  # fmt: skip
    assert database_snapshot(database) == after
    assert "40 orders already there" in cli("demo", "--orders", "40").stderr

    listed = json.loads(cli("orders", "list", "--all", "-o", "json", role=Role.VIEWER).stdout)
    assert len(listed) == 40 and all(o["external_ref"].startswith("DEMO-") for o in listed)
    created = [o["created_at"] for o in listed]
    assert created == sorted(created, reverse=True) and created[0] > created[-1]
    history = json.loads(cli("orders", "history", str(listed[0]["id"]), "-o", "json").stdout)
    assert history[0]["action"] == "created" and history[0]["actor"] == "test-admin"
    assert cli("demo", "--orders", "-1").exit_code == 2
