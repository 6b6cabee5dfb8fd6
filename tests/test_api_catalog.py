"""The HTTP API's catalog, customers and users (DESIGN.md §11), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from helpers import (
    Api,
    add_product,
    database_snapshot,
    detail,
)
from orderctl.enums import Role

# ---- catalog, customers, users ----


def test_products_crud(api: Api) -> None:
    add_product(api, "MUG-01", "12.50", 100)
    add_product(api, "TEE-M", "20", None)
    r = api.get("/api/products/MUG-01", role=Role.VIEWER)
    assert r.json() == {
        "sku": "MUG-01",
        "name": "Product MUG-01",
        "unit_price": "12.50",
        "stock": 100,
        "active": True,
    }
    r = api.patch("/api/products/TEE-M", json={"unit_price": "21.00", "active": False})
    assert r.status_code == 200 and r.json()["unit_price"] == "21.00"
    assert [p["sku"] for p in api.get("/api/products").json()] == ["MUG-01"]
    assert [p["sku"] for p in api.get("/api/products?active=false").json()] == ["TEE-M"]
    assert len(api.get("/api/products?active=all").json()) == 2
    r = api.patch("/api/products/MUG-01", json={"add_stock": -2})
    assert r.status_code == 200 and r.json()["stock"] == 98
    r = api.patch("/api/products/MUG-01", json={"add_stock": -99})
    assert r.status_code == 422 and "would leave" in detail(r)
    r = api.patch("/api/products/MUG-01", json={"add_stock": 1, "stock": 5})
    assert r.status_code == 422 and "not both" in detail(r)
    r = api.patch("/api/products/MUG-01", json={"stock": None})
    assert r.status_code == 200 and r.json()["stock"] is None
    r = api.post("/api/products", json={"sku": "MUG-01", "name": "again", "unit_price": "1"})
    assert r.status_code == 409 and "already exists" in detail(r)
    r = api.patch("/api/products/NOPE", json={"name": "x"})
    assert r.status_code == 404
    r = api.patch("/api/products/MUG-01", json={})
    assert r.status_code == 422 and "nothing to update" in detail(r)


def test_product_history(api: Api) -> None:
    add_product(api, "MUG-01", "12.50", 100)
    add_product(api, "A/B", "1.00", 5)  # a SKU with a slash still reaches its history
    api.patch("/api/products/MUG-01", json={"add_stock": -2})
    r = api.get("/api/products/MUG-01/history", role=Role.VIEWER)
    assert r.status_code == 200, r.text
    assert [(m["reason"], m["quantity"], m["stock_after"]) for m in r.json()] == [
        ("adjust", -2, 98),
        ("set", 100, 100),
    ]
    assert list(r.json()[0]) == [
        "id", "at", "reason", "quantity", "stock_after", "order_id", "actor", "note"
    ]  # fmt: skip
    assert len(api.get("/api/products/MUG-01/history?limit=1").json()) == 1
    assert api.get("/api/products/A/B/history").json()[0]["stock_after"] == 5
    assert api.get("/api/products/NOPE/history").status_code == 404
    assert api.get("/api/products/MUG-01/history?limit=0").status_code == 422
    assert api.get("/api/products/MUG-01/history", role=None).status_code == 401


BAD_PRODUCTS: list[Any] = [
    {"sku": "A", "name": "n", "unit_price": "1.005"},
    {"sku": "A", "name": "n", "unit_price": "-1"},
    {"sku": "A", "name": "n", "unit_price": "99999999999"},
    {"sku": "A", "name": "n", "unit_price": "NaN"},
    {"sku": "A", "name": "n", "unit_price": 1e308},
    {"sku": "A", "name": "n", "unit_price": "1", "stock": -1},
    {"sku": "A", "name": "n", "unit_price": "1", "stock": 10**30},
    {"sku": "", "name": "n", "unit_price": "1"},
    {"sku": "A" * 65, "name": "n", "unit_price": "1"},
    {"sku": "A\x00B", "name": "n", "unit_price": "1"},
    {"sku": "A\nB", "name": "n", "unit_price": "1"},
    {"sku": "A", "name": "n", "unit_price": "1", "colour": "blue"},
    {"sku": "A", "unit_price": "1"},
    [1, 2, 3],
    "'; DROP TABLE products; --",
]


def test_product_bad_bodies_are_422_and_change_nothing(api: Api) -> None:
    api.token(Role.ADMIN)
    before = database_snapshot(api.database)
    for body in BAD_PRODUCTS:
        r = api.post("/api/products", json=body)
        assert r.status_code == 422, (body, r.text)
        detail(r)
    assert database_snapshot(api.database) == before


def test_hostile_strings_are_stored_verbatim(api: Api) -> None:
    name = "<script>alert(1)</script> '; DROP TABLE products; -- RTL עברית 😀 [bold]x[/]"
    r = api.post("/api/products", json={"sku": "Ω-😀", "name": name, "unit_price": "1"})
    assert r.status_code == 201, r.text
    r = api.get("/api/products/Ω-😀")
    assert r.status_code == 200 and r.json()["name"] == name
    r = api.post("/api/products", json={"sku": "A/B", "name": "slash", "unit_price": "1"})
    assert r.status_code == 201
    assert api.get("/api/products/A%2FB").json()["name"] == "slash"
    assert api.patch("/api/products/A/B", json={"name": "x"}).json()["sku"] == "A/B"
    r = api.post("/api/customers", json={"email": "a/b@example.com"})
    assert r.status_code == 201
    assert api.get("/api/customers/a%2Fb@example.com").json()["email"] == "a/b@example.com"
    r = api.get("/api/products/%00")
    assert r.status_code in (404, 422)
    r = api.get("/api/customers/a%00@b.io")
    assert r.status_code in (404, 422)


def test_customers(api: Api) -> None:
    r = api.post("/api/customers", json={"email": " Ana@Example.COM ", "name": "Ana"})
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "ana@example.com"
    r = api.post("/api/customers", json={"email": "ana@example.com"})
    assert r.status_code == 409
    for bad in ("not-an-email", "a\x00@b.io", "x" * 300 + "@b.io", ""):
        r = api.post("/api/customers", json={"email": bad})
        assert r.status_code == 422, (bad, r.text)
    for i in range(5):
        api.post("/api/customers", json={"email": f"c{i}@example.com"})
    r = api.get("/api/customers/ANA@example.com", role=Role.VIEWER)
    assert r.status_code == 200
    assert r.json()["order_count"] == 0 and r.json()["total_spent"] == {}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/customers", params=params).json()
        seen += [c["email"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 6
    assert api.get("/api/customers/nobody@example.com").status_code == 404


def test_users(api: Api) -> None:
    r = api.post("/api/users", json={"username": "carol", "role": "operator", "password": "x" * 8})
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "operator" and "password" not in r.json()
    r = api.post("/api/users", json={"username": "Carol", "role": "viewer", "password": "y" * 8})
    assert r.status_code == 409
    r = api.post("/api/users", json={"username": "dave", "role": "root", "password": "y" * 8})
    assert r.status_code == 422
    r = api.post("/api/users", json={"username": "dave", "role": "viewer", "password": "short"})
    assert r.status_code == 422
    r = api.patch("/api/users/carol", json={"role": "viewer"})
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    r = api.patch("/api/users/carol", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    r = api.patch("/api/users/carol", json={"active": True, "role": "admin"})
    assert r.status_code == 422 and "exactly one" in detail(r)
    r = api.patch("/api/users/carol", json={"password": "new password 1"})
    assert r.status_code == 200
    r = api.patch("/api/users/nobody", json={"active": False})
    assert r.status_code == 404
    names = [u["username"] for u in api.get("/api/users").json()]
    assert "carol" in names and "api-admin" in names


def test_last_admin_cannot_be_demoted(api: Api) -> None:
    api.token(Role.ADMIN)
    before = database_snapshot(api.database)
    r = api.patch("/api/users/api-admin", json={"role": "viewer"})
    assert r.status_code == 422 and "last active admin" in detail(r)
    assert api.get("/api/auth/me").json()["role"] == "admin"
    assert database_snapshot(api.database) == before
