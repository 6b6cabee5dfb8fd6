"""`orders show ID -o json --history` carries the history events (§6) in the order document."""

from __future__ import annotations

import json

from helpers import Cli, database_snapshot
from orderctl.enums import Role


def test_show_with_history_adds_the_events_and_nothing_else(cli: Cli) -> None:
    assert cli("products", "add", "MUG-01", "--name", "Mug", "--price", "12.50").exit_code == 0
    made = cli(
        "orders", "create", "--customer", "ana@example.com", "--item", "MUG-01:2",
        "--external-ref", "WEB-1", "-o", "json",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    order_id = str(json.loads(made.stdout)["id"])
    assert cli("orders", "set-status", order_id, "paid", "--reason", "card").exit_code == 0

    plain = cli("orders", "show", order_id, "-o", "json", role=Role.VIEWER)
    assert plain.exit_code == 0, plain.stderr
    order = json.loads(plain.stdout)
    assert "history" not in order and "events" not in order

    before = database_snapshot(cli.database)
    full = cli("orders", "show", "--ref", "WEB-1", "-o", "json", "--history", role=Role.VIEWER)
    assert full.exit_code == 0, full.stderr
    doc = json.loads(full.stdout)
    history = json.loads(cli("orders", "history", order_id, "-o", "json").stdout)
    assert doc == {**order, "history": history}
    assert doc["history"][0]["action"] == "created" and len(doc["history"]) == 2
    assert (doc["history"][1]["from_status"], doc["history"][1]["to_status"]) == ("pending", "paid")
    assert set(doc["history"][0]) == {
        "at", "actor", "action", "from_status", "to_status", "reason"
    }  # fmt: skip
    assert doc["history"][-1]["reason"] == "card"

    line = json.loads(cli("orders", "show", order_id, "-o", "jsonl", "--history").stdout)
    assert line == doc
    table = cli("orders", "show", order_id, "--history")
    assert table.exit_code == 0 and "card" in table.stdout
    assert database_snapshot(cli.database) == before
