"""`/api/orders` over HTTP: create, idempotency, status, history, keyset pages, CLI parity."""

from __future__ import annotations

import json
from typing import Any

from helpers import Api, Cli, add_product, detail, order_body
from helpers import database_snapshot as row_counts
from orderctl.enums import Role


def test_create_show_status_history(api: Api) -> None:
    add_product(api, "MUG-01", "12.50", 10)
    r = api.post("/api/orders", role=Role.OPERATOR, json=order_body(notes="gift 🎁"))
    assert r.status_code == 201, r.text
    order = r.json()
    assert r.headers["Location"] == f"/api/orders/{order['id']}"
    assert order["total"] == "25.00" and order["status"] == "pending"
    assert order["items"] == [
        {
            "sku": "MUG-01",
            "name": "Product MUG-01",
            "quantity": 2,
            "unit_price": "12.50",
            "line_total": "25.00",
        }
    ]
    assert order["customer"]["email"] == "ana@example.com"
    assert api.get(f"/api/orders/{order['id']}", role=Role.VIEWER).json() == order

    r = api.post(
        f"/api/orders/{order['id']}/status",
        role=Role.OPERATOR,
        json={"status": "paid", "reason": "card ✓"},
    )
    assert r.status_code == 200 and r.json()["status"] == "paid"
    r = api.post(f"/api/orders/{order['id']}/status", json={"status": "pending"})
    assert r.status_code == 409 and "allowed: shipped, cancelled, refunded" in detail(r)
    r = api.post(f"/api/orders/{order['id']}/status", json={"status": "paid"})
    assert r.status_code == 409 and "already paid" in detail(r)
    r = api.post(f"/api/orders/{order['id']}/status", json={"status": "lost"})
    assert r.status_code == 422

    events = api.get(f"/api/orders/{order['id']}/history", role=Role.VIEWER).json()
    assert [(e["action"], e["to_status"]) for e in events] == [
        ("created", "pending"),
        ("status_changed", "paid"),
    ]
    assert events[1]["actor"] == "api-operator" and events[1]["reason"] == "card ✓"


def test_cancel_restocks_and_stock_is_never_oversold(api: Api) -> None:
    add_product(api, "MUG-01", "1.00", 3)
    first = api.post("/api/orders", json=order_body(items=[("MUG-01", 2)])).json()
    before = row_counts(api.database)
    r = api.post("/api/orders", json=order_body(items=[("MUG-01", 2)]))
    assert r.status_code == 409
    assert detail(r) == "insufficient stock for MUG-01: 1 left, 2 requested"
    assert row_counts(api.database) == before
    api.post(f"/api/orders/{first['id']}/status", json={"status": "cancelled"})
    assert api.get("/api/products/MUG-01").json()["stock"] == 3


def test_not_found_and_bad_ids(api: Api) -> None:
    for path in (
        "/api/orders/999999",
        "/api/orders/0",
        "/api/orders/-1",
        "/api/orders/" + "9" * 25,
    ):
        r = api.get(path)
        assert r.status_code in (404, 422), (path, r.text)
    assert api.get("/api/orders/999999").status_code == 404
    assert api.get("/api/orders/99999999999999999999").status_code == 404
    assert api.get("/api/orders/999999/history").status_code == 404
    r = api.post("/api/orders/999999/status", json={"status": "paid"})
    assert r.status_code == 404


def test_create_validation_is_422_and_writes_nothing(api: Api) -> None:
    add_product(api, "MUG-01", "12.50", 10)
    api.token(Role.ADMIN)
    before = row_counts(api.database)
    bad: list[Any] = [
        order_body(items=[("NOPE", 1)]),
        order_body(items=[("MUG-01", 0)]),
        order_body(items=[("MUG-01", 100_001)]),
        order_body(items=[("MUG-01", 10**40)]),
        order_body(items=[("MUG-01", 1), ("MUG-01", 2)]),
        order_body(email="not an email"),
        order_body(email="a\x00@b.io"),
        order_body(notes="x" * 2001),
        order_body(notes="nul \x00"),
        order_body(currency="EURO"),
        order_body(external_ref=""),
        order_body(external_ref="r" * 101),
        order_body(status="paid"),
        {**order_body(), "items": []},
        {**order_body(), "total": "1.00"},
        {
            **order_body(),
            "items": [{"sku": "MUG-01", "quantity": 100_000, "unit_price": "9999999999.99"}],
        },
        {**order_body(), "items": [{"sku": "MUG-01", "quantity": 1, "unit_price": "1e400"}]},
        {**order_body(), "items": [{"sku": "MUG-01", "quantity": 1, "unit_price": "-0.01"}]},
    ]
    for body in bad:
        r = api.post("/api/orders", json=body)
        assert r.status_code == 422, (body, r.text)
        detail(r)
    assert row_counts(api.database) == before


def test_idempotency_key(api: Api) -> None:
    add_product(api, "MUG-01", "12.50", 10)
    key = {"Idempotency-Key": "shop-4711"}
    r = api.post("/api/orders", headers=key, json=order_body())
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["external_ref"] == "shop-4711"
    before = row_counts(api.database)

    again = api.post("/api/orders", headers=key, json=order_body())
    assert again.status_code == 200 and again.json() == first
    assert again.headers["Idempotent-Replayed"] == "true"
    # the body's external_ref and the key are the same thing
    same = api.post("/api/orders", json=order_body(external_ref="shop-4711"))
    assert same.status_code == 200 and same.json()["id"] == first["id"]
    assert row_counts(api.database) == before

    r = api.post("/api/orders", headers=key, json=order_body(items=[("MUG-01", 3)]))
    assert r.status_code == 409 and "different content" in detail(r)
    r = api.post("/api/orders", headers=key, json=order_body(external_ref="other"))
    assert r.status_code == 422 and "Idempotency-Key" in detail(r)
    for bad in ("   ", "k" * 101):
        r = api.post("/api/orders", headers={"Idempotency-Key": bad}, json=order_body())
        assert r.status_code == 422, (bad, r.text)
    assert row_counts(api.database) == before
    assert api.get("/api/products/MUG-01").json()["stock"] == 8

    by_ref = api.get("/api/orders/ref/shop-4711", role=Role.VIEWER)
    assert by_ref.status_code == 200 and by_ref.json() == first
    assert api.get("/api/orders/ref/nope").status_code == 404
    assert api.get("/api/orders/ref/a%00b").status_code in (404, 422)

    both = api.post(
        "/api/orders", headers={"Idempotency-Key": "k2"}, json=order_body(external_ref="k2")
    )
    assert both.status_code == 201


def test_same_json_as_the_cli(api: Api, cli: Cli) -> None:
    add_product(api, "MUG-01", "12.50", None)
    order = api.post(
        "/api/orders",
        json=order_body(
            email="zoë@example.com", notes="RTL עברית <b>x</b>\n😀", external_ref="ref/1"
        ),
    ).json()
    api.post(f"/api/orders/{order['id']}/status", json={"status": "paid", "reason": "ok"})

    def cli_json(*args: str) -> Any:
        result = cli(*args, "-o", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    oid = str(order["id"])
    assert api.get("/api/orders/ref/ref/1").json() == api.get(f"/api/orders/{oid}").json()
    assert cli_json("orders", "show", oid) == api.get(f"/api/orders/{oid}").json()
    assert cli_json("orders", "history", oid) == api.get(f"/api/orders/{oid}/history").json()
    assert cli_json("orders", "list") == api.get("/api/orders").json()["items"]
    assert cli_json("products", "show", "MUG-01") == api.get("/api/products/MUG-01").json()
    assert (
        cli_json("customers", "show", "zoë@example.com")
        == api.get("/api/customers/zoë@example.com").json()
    )
    assert cli_json("users", "list") == api.get("/api/users").json()


def _collect(api: Api, params: dict[str, Any], between: Any) -> list[int]:
    seen: list[int] = []
    cursor: str | None = None
    while True:
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        r = api.get("/api/orders", role=Role.VIEWER, params=query)
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        between()


def test_pages_with_concurrent_inserts(api: Api) -> None:
    """No duplicates, and no gaps among the rows that existed when paging started."""
    add_product(api, "MUG-01", "1.00", None)
    for i in range(13):
        r = api.post("/api/orders", json=order_body(items=[("MUG-01", 1 + i % 5)]))
        assert r.status_code == 201
    existing = {o["id"] for o in api.get("/api/orders?limit=1000").json()["items"]}
    counter = iter(range(1000))

    def insert() -> None:
        qty = 1 + next(counter) % 7
        r = api.post("/api/orders", role=Role.OPERATOR, json=order_body(items=[("MUG-01", qty)]))
        assert r.status_code == 201

    for sort in ("-created", "created", "total", "-total"):
        seen = _collect(api, {"limit": 4, "sort": sort}, insert)
        assert len(seen) == len(set(seen)), sort
        assert existing <= set(seen), sort
        existing = {o["id"] for o in api.get("/api/orders?limit=1000").json()["items"]}


def test_list_filters(api: Api) -> None:
    add_product(api, "MUG-01", "10.00", None)
    a = api.post("/api/orders", json=order_body("a@example.com", [("MUG-01", 1)])).json()
    b = api.post("/api/orders", json=order_body("b@example.com", [("MUG-01", 5)])).json()
    api.post(f"/api/orders/{b['id']}/status", json={"status": "paid"})

    def ids(query: str) -> list[int]:
        r = api.get(f"/api/orders?{query}")
        assert r.status_code == 200, (query, r.text)
        return [o["id"] for o in r.json()["items"]]

    assert ids("status=paid") == [b["id"]]
    assert ids("status=paid&status=pending") == [b["id"], a["id"]]
    assert ids("customer=A@example.com") == [a["id"]]
    assert ids("min_total=20") == [b["id"]]
    assert ids("max_total=20.00") == [a["id"]]
    assert ids("sort=total") == [a["id"], b["id"]]
    assert ids("since=2000-01-01&until=2999-12-31") == [b["id"], a["id"]]
    assert ids("until=2000-01-01") == []
    assert ids("customer=nobody@example.com") == []
    for bad in (
        "status=lost",
        "sort=price",
        "since=the-day-before",
        "since=7x",
        "since=today&until=yesterday",
        "min_total=100&max_total=50",
        "until=2026-13-45",
        "since=0001-01-01T00:00:00%2B01:00",
        "min_total=abc",
        "min_total=NaN",
        "max_total=1e999999",
        "customer=not-an-email",
        "customer=a%00@b.io",
        "cursor=garbage",
        "cursor=" + "A" * 600,
        "limit=1001",
        "limit=-5",
    ):
        r = api.get(f"/api/orders?{bad}")
        assert r.status_code == 422, (bad, r.text)
        detail(r)
    page = api.get("/api/orders?limit=1&sort=total").json()
    r = api.get(f"/api/orders?limit=1&sort=-created&cursor={page['next_cursor']}")
    assert r.status_code == 422 and "cursor" in detail(r)


def test_concurrent_retries_with_one_key_create_one_order(api: Api) -> None:
    """Clients retry after timeouts, often while the first attempt is still running."""
    import threading

    from fastapi.testclient import TestClient

    add_product(api, "MUG-01", "1.00", 100)
    headers = api.headers(Role.OPERATOR, {"Idempotency-Key": "retry-storm"})
    app = api.client.app
    statuses: list[int] = []
    ids: set[int] = set()
    barrier = threading.Barrier(6)

    def attempt() -> None:
        with TestClient(app) as client:
            barrier.wait()
            r = client.post("/api/orders", headers=headers, json=order_body())
            statuses.append(r.status_code)
            if r.status_code < 300:
                ids.add(r.json()["id"])

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 5 + [201], statuses
    assert len(ids) == 1
    assert api.get("/api/products/MUG-01").json()["stock"] == 98


def test_concurrent_first_orders_of_a_new_customer(api: Api) -> None:
    import threading

    from fastapi.testclient import TestClient

    add_product(api, "MUG-01", "1.00", None)
    headers = api.headers(Role.OPERATOR)
    app = api.client.app
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        with TestClient(app) as client:
            barrier.wait()
            r = client.post("/api/orders", headers=headers, json=order_body("new@example.com"))
            statuses.append(r.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 6
    customer = api.get("/api/customers/new@example.com").json()
    assert customer["order_count"] == 6
