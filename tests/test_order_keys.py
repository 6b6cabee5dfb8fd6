"""Orders named by id or external ref everywhere (DESIGN.md §5): `orders show`, `set-status`
and `history` on the CLI, `/api/orders/{id_or_ref}` and `/api/orders/ref/{ref}` on the API,
by one rule (digits only = an id; `--ref` / `/ref/` force a ref)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from helpers import Api, Cli, database_snapshot, one_error
from helpers.orders import create_order
from orderctl.enums import Role

#: Refs a URL must carry: a slash, a percent sign, spaces, unicode, digits only.
HOSTILE_REFS = ["a/b", "50%off", "with space", "Bestellung-äöü-日本", "4711"]


def _orders(shop: Cli) -> dict[str, int]:
    """One order per ref (and one without a ref, id 1): ref -> id."""
    create_order(shop, "--customer", "a@b.io", "--item", "MUG-01:1")
    return {
        ref: create_order(
            shop, "--customer", "a@b.io", "--item", "MUG-01:1", "--external-ref", ref
        )["id"]
        for ref in ["WEB-1001", *HOSTILE_REFS]
    }


def _json(cli: Cli, *args: str) -> object:
    result = cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_show_history_and_set_status_take_an_id_or_a_ref(shop: Cli) -> None:
    ids = _orders(shop)
    web = ids["WEB-1001"]
    by_id = _json(shop, "orders", "show", str(web))
    assert _json(shop, "orders", "show", "WEB-1001") == by_id
    assert _json(shop, "orders", "history", "WEB-1001") == _json(
        shop, "orders", "history", str(web)
    )
    assert _json(shop, "orders", "history", "--ref", "WEB-1001") == _json(
        shop, "orders", "history", str(web)
    )
    done = _json(shop, "orders", "set-status", "WEB-1001", "paid")
    assert isinstance(done, dict) and (done["id"], done["status"]) == (web, "paid")
    done = _json(shop, "orders", "set-status", "--ref", "WEB-1001", "shipped", "--reason", "DHL")
    assert isinstance(done, dict) and done["status"] == "shipped"
    events = _json(shop, "orders", "history", "WEB-1001")
    assert isinstance(events, list) and [e["to_status"] for e in events][-2:] == ["paid", "shipped"]

    # Digits only are an id; `--ref` makes them a ref (the order "4711" is not order 4711).
    digits = ids["4711"]
    assert digits != 4711
    shown = _json(shop, "orders", "show", "--ref", "4711")
    assert isinstance(shown, dict) and shown["id"] == digits
    one_error(shop("orders", "history", "4711"), 5, "error: order 4711 not found")
    done = _json(shop, "orders", "set-status", "--ref", "4711", "cancelled")
    assert isinstance(done, dict) and (done["id"], done["status"]) == (digits, "cancelled")
    for ref in HOSTILE_REFS[:-1]:
        shown = _json(shop, "orders", "show", ref)
        assert isinstance(shown, dict) and shown["id"] == ids[ref]


@pytest.mark.parametrize(
    "args",
    [
        ["show", "NOPE-1"],
        ["show", "--ref", "42"],
        ["history", "NOPE-1"],
        ["history", "--ref", "42"],
        ["set-status", "NOPE-1", "paid"],
        ["set-status", "--ref", "42", "paid"],
    ],
)
def test_an_unknown_ref_is_exit_5_naming_it(shop: Cli, args: list[str]) -> None:
    _orders(shop)
    shop.token(Role.ADMIN)
    before = database_snapshot(shop.database)
    ref = args[-2] if args[0] == "set-status" else args[-1]
    one_error(shop("orders", *args), 5, f"error: order with external_ref {ref!r} not found")
    assert database_snapshot(shop.database) == before


@pytest.mark.parametrize(
    "args",
    [
        ["show"],
        ["show", "1", "--ref", "WEB-1001"],
        ["history", "1", "--ref", "WEB-1001"],
        ["set-status", "1", "paid", "--ref", "WEB-1001"],
        ["set-status", "--ref", "WEB-1001"],
    ],
)
def test_an_id_and_a_ref_together_or_neither_is_a_usage_error(shop: Cli, args: list[str]) -> None:
    _orders(shop)
    shop.token(Role.ADMIN)
    before = database_snapshot(shop.database)
    one_error(shop("orders", *args), 2)
    assert database_snapshot(shop.database) == before


def test_api_routes_take_an_id_or_a_ref_with_url_hostile_characters(shop: Cli, api: Api) -> None:
    ids = _orders(shop)
    for ref, order_id in ids.items():
        path = quote(ref, safe="")
        expected = api.get(f"/api/orders/{order_id}", role=Role.VIEWER).json()
        assert api.get(f"/api/orders/ref/{quote(ref)}", role=Role.VIEWER).json() == expected
        history = api.get(f"/api/orders/{order_id}/history", role=Role.VIEWER).json()
        assert api.get(f"/api/orders/ref/{quote(ref)}/history").json() == history
        if "/" not in ref and not ref.isdigit():  # one path segment: the same as the id
            assert api.get(f"/api/orders/{path}", role=Role.VIEWER).json() == expected
            assert api.get(f"/api/orders/{path}/history").json() == history
    # A slash or digits-only ref changes status under /ref/, any other ref under its segment.
    r = api.post(f"/api/orders/ref/{quote('a/b')}/status", json={"status": "paid"})
    assert r.status_code == 200 and r.json()["id"] == ids["a/b"], r.text
    r = api.post("/api/orders/ref/4711/status", json={"status": "paid"})
    assert r.status_code == 200 and r.json()["id"] == ids["4711"], r.text
    r = api.post(f"/api/orders/{quote('Bestellung-äöü-日本')}/status", json={"status": "paid"})
    assert r.status_code == 200 and r.json()["id"] == ids["Bestellung-äöü-日本"], r.text
    r = api.post(f"/api/orders/{quote('50%off', safe='')}/status", json={"status": "cancelled"})
    assert r.status_code == 200 and r.json()["id"] == ids["50%off"], r.text
    events = api.get(f"/api/orders/{quote('50%off', safe='')}/history").json()
    assert events[-1]["to_status"] == "cancelled"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/orders/NOPE%201"),
        ("GET", "/api/orders/NOPE%201/history"),
        ("POST", "/api/orders/NOPE%201/status"),
        ("GET", "/api/orders/ref/NOPE%201"),
        ("GET", "/api/orders/ref/NOPE%201/history"),
        ("POST", "/api/orders/ref/NOPE%201/status"),
    ],
)
def test_api_unknown_ref_is_404_naming_it(shop: Cli, api: Api, method: str, path: str) -> None:
    _orders(shop)
    api.token(Role.ADMIN)
    before = database_snapshot(shop.database)
    r = api.request(method, path, json={"status": "paid"} if method == "POST" else None)
    assert r.status_code == 404, r.text
    assert r.json()["detail"] == "order with external_ref 'NOPE 1' not found"
    assert database_snapshot(shop.database) == before


def test_openapi_describes_id_or_ref_routes(api: Api) -> None:
    paths = api.get("/openapi.json", role=None).json()["paths"]
    for route in ("/api/orders/{id_or_ref}", "/api/orders/{id_or_ref}/history"):
        (param,) = paths[route]["get"]["parameters"]
        assert param["name"] == "id_or_ref" and param["schema"]["type"] == "string"
        assert "Digits only" in param["description"]
    assert "post" in paths["/api/orders/{id_or_ref}/status"]
    assert "post" in paths["/api/orders/ref/{external_ref}/status"]
    assert "get" in paths["/api/orders/ref/{external_ref}/history"]
