"""The API's fast read path: `GET /api/orders/{id}` and `GET /api/orders` send the JSON
documents the database writes, as sent by `orders list -o json`, and they must stay exactly the
read models (`OrderRead`, `OrderPageRead`) that the OpenAPI document promises."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from helpers import Api, add_product, detail, order_body
from orderctl.enums import OrderStatus, Role
from orderctl.errors import NotFound
from orderctl.services import order_listing, orders
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork
from orderctl.tables import ORDER_ID_MAX


def _full_order(api: Api) -> dict[str, object]:
    """An order with every optional field set, two lines, a customer name and a later status."""
    add_product(api, "MUG-01", "12.50", 10)
    add_product(api, "TEA-02", "3.10", None)
    body = order_body(
        email="zoë@example.com", notes='RTL עברית <b>"x"</b>\n😀\t', external_ref="ref/1"
    )
    body["customer_name"] = "Zoë \\ Ünal"
    body["shipping_address"] = "Hauptstr. 1\n10115 Berlin"
    body["items"] = [{"sku": "TEA-02", "quantity": 3}, {"sku": "MUG-01", "quantity": 1}]
    r = api.post("/api/orders", json=body)
    assert r.status_code == 201, r.text
    order: dict[str, object] = r.json()
    r = api.post(f"/api/orders/{order['id']}/status", json={"status": "paid"})
    assert r.status_code == 200, r.text
    return order


def test_the_document_is_the_read_model(
    api: Api, uow: Callable[..., UnitOfWork], admin: Actor
) -> None:
    order = _full_order(api)
    oid = order["id"]
    assert isinstance(oid, int)
    with uow(write=False) as u:
        model = orders.get_order(u, admin, oid).model_dump(mode="json")
        assert model["status"] == OrderStatus.PAID.value and model["customer"]["name"]
        assert json.loads(orders.get_order_document(u, admin, str(oid))) == model
        assert json.loads(orders.get_order_document(u, admin, "ref/1", by_ref=True)) == model
        page = order_listing.list_orders(u, admin, limit=1)
        listed = json.loads(page.json())
    assert (
        listed
        == {"items": page.items, "next_cursor": page.next_cursor}
        == {
            "items": [model],
            "next_cursor": None,
        }
    )
    assert api.get(f"/api/orders/{oid}", role=Role.VIEWER).json() == model
    assert api.get("/api/orders/ref/ref/1", role=Role.VIEWER).json() == model
    assert api.get("/api/orders", role=Role.VIEWER).json() == listed


@pytest.mark.parametrize("key", ["0", str(ORDER_ID_MAX + 1), "999", "no-such-ref"])
def test_a_missing_document_is_not_found_as_with_the_model(
    api: Api, uow: Callable[..., UnitOfWork], admin: Actor, key: str
) -> None:
    _full_order(api)
    with uow(write=False) as u:
        with pytest.raises(NotFound) as by_model:
            orders.get_order(u, admin, key)
        with pytest.raises(NotFound) as by_document:
            orders.get_order_document(u, admin, key)
    assert by_document.value.message == by_model.value.message
    r = api.get(f"/api/orders/{key}", role=Role.VIEWER)
    assert r.status_code == 404 and detail(r) == by_model.value.message


def test_a_page_with_a_next_cursor_and_the_json_content_type(api: Api) -> None:
    add_product(api, "MUG-01", "1.00", None)
    for n in range(3):
        api.post("/api/orders", json=order_body(email=f"p{n}@example.com"))
    r = api.get("/api/orders", role=Role.VIEWER, params={"limit": 2})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    first = r.json()
    assert len(first["items"]) == 2 and isinstance(first["next_cursor"], str)
    rest = api.get("/api/orders", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    created = api.post("/api/orders", json=order_body(email="x@example.com"))
    assert created.headers["content-type"] == "application/json"


def test_the_openapi_document_still_names_the_read_models(api: Api) -> None:
    """The routes answer with a raw `Response`; their `response_model` keeps the schema."""
    paths = api.client.app.openapi()["paths"]  # type: ignore[attr-defined]

    def schema(path: str, method: str, status: str) -> object:
        content = paths[path][method]["responses"][status]["content"]
        return content["application/json"]["schema"]

    read = {"$ref": "#/components/schemas/OrderRead"}
    assert schema("/api/orders", "get", "200") == {"$ref": "#/components/schemas/OrderPageRead"}
    assert schema("/api/orders/{id_or_ref}", "get", "200") == read
    assert schema("/api/orders/ref/{external_ref}", "get", "200") == read
    assert schema("/api/orders", "post", "201") == read
    assert schema("/api/orders", "post", "200") == read


def test_a_revoked_token_is_refused_at_the_next_request(api: Api) -> None:
    """Nothing about a token is cached between requests: the revoke of another session is
    seen by the very next request."""
    _full_order(api)
    made = api.post("/api/auth/tokens", json={"name": "short"}).json()
    bearer = {"Authorization": f"Bearer {made['access_token']}"}
    assert api.client.get("/api/orders/1", headers=bearer).status_code == 200
    r = api.request("DELETE", f"/api/auth/tokens/{made['token']['id']}")
    assert r.status_code == 200, r.text
    r = api.client.get("/api/orders/1", headers=bearer)
    assert r.status_code == 401 and "revoked" in detail(r)


@pytest.mark.parametrize("customer_name", [None, "Zoë \\ Ünal", '"quoted" </script>'])
def test_a_new_orders_answer_is_its_stored_document_byte_for_byte(
    api: Api, customer_name: str | None
) -> None:
    """`POST /api/orders` answers with the read model of the rows it wrote, not a read-back
    (services/order_create.py): it must be the bytes `GET /api/orders/{id}` sends, on hostile
    text, with lines in the order given, and with a customer's name as stored (a new
    customer's, one filled in, or an older one kept)."""
    add_product(api, "MUG-01", "12.50", 10)
    add_product(api, "TEA-02", "3.10", None)
    if customer_name is not None:  # an existing customer: without a name, or with another
        body = order_body(email="zoë@example.com")
        if customer_name.startswith('"'):
            body["customer_name"] = "Already Named"
        assert api.post("/api/orders", json=body).status_code == 201
    body = order_body(
        email="zoë@example.com",
        notes='RTL עברית <b>"x"</b>\n😀\t\\u0000 \u00a0',
        external_ref="ref/\u00e9",
    )
    body["customer_name"] = customer_name
    body["shipping_address"] = "Hauptstr. 1\n10115 Berlin"
    body["items"] = [{"sku": "TEA-02", "quantity": 3}, {"sku": "MUG-01", "quantity": 1}]
    created = api.post("/api/orders", json=body)
    assert created.status_code == 201, created.text
    stored = api.get(created.headers["Location"], role=Role.VIEWER)
    assert created.content == stored.content
    assert [item["sku"] for item in created.json()["items"]] == ["TEA-02", "MUG-01"]
    replayed = api.post("/api/orders", json=body)
    assert replayed.status_code == 200 and replayed.content == stored.content
