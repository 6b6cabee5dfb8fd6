"""The OpenAPI document says what the app does (DESIGN.md §11): one error body, every status
an operation can answer, `Allow` of a 405, parameters and bodies as the code reads them.
schemathesis checks the same from outside (test_api_schemathesis.py); these tests name each
rule."""

from __future__ import annotations

import re
from typing import Any

import pytest

from helpers import Api, add_product, database_snapshot, detail
from orderctl.enums import Role

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
METHODS = ("get", "head", "post", "put", "patch", "delete", "options")


def document(api: Api) -> dict[str, Any]:
    doc: dict[str, Any] = api.get("/openapi.json", role=None).json()
    return doc


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def sample_path(template: str) -> str:
    """A concrete path for a template: each `{parameter}` filled with `x`."""
    return re.sub(r"\{[^}]+\}", "x", template)


def test_every_error_answer_is_the_one_error_body(api: Api) -> None:
    doc = document(api)
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorBody"]["required"] == ["detail"]
    assert schemas["ErrorBody"]["properties"]["detail"] == {"title": "Detail", "type": "string"}
    for path, method, operation in operations(doc):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                body = response["content"]["application/json"]["schema"]
                assert body == ERROR_REF, (path, method, status)


def test_statuses_follow_what_each_route_depends_on(api: Api) -> None:
    doc = document(api)
    for path, method, operation in operations(doc):
        statuses = set(operation["responses"])
        where = (method, path)
        assert "500" in statuses, where
        if operation.get("security"):
            assert {"401", "503"} <= statuses, where
            header = operation["responses"]["401"]["headers"]
            assert "WWW-Authenticate" in header, where
        if "{" in path:
            assert "404" in statuses, where
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in statuses, where
        if operation.get("requestBody"):
            assert "413" in statuses, where
    paths = doc["paths"]
    assert "403" in paths["/api/users"]["get"]["responses"]
    assert "409" in paths["/api/orders"]["post"]["responses"]
    assert "409" not in paths["/api/orders"]["get"]["responses"]  # a read conflicts with nothing
    assert {"401", "415", "422"} <= set(paths["/api/auth/token"]["post"]["responses"])
    assert "404" in paths["/api/events"]["get"]["responses"]
    assert "Retry-After" in paths["/api/orders"]["get"]["responses"]["503"]["headers"]
    assert "Retry-After" not in paths["/healthz"]["get"]["responses"]["503"].get("headers", {})


def test_the_statuses_documented_are_sent(api: Api) -> None:
    """A sample of each derived status, as the document describes it."""
    r = api.get("/api/users", role=None)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert api.get("/api/users", role=Role.VIEWER).status_code == 403
    assert api.get("/api/products/NOPE").status_code == 404
    add_product(api, "MUG-01")
    r = api.post("/api/products", json={"sku": "MUG-01", "name": "n", "unit_price": "1"})
    assert r.status_code == 409
    r = api.get("/api/orders?limit=0")
    assert r.status_code == 422
    assert set(r.json()) == {"detail", "errors"} and isinstance(r.json()["errors"], list)


def test_a_405_allows_exactly_the_documented_methods(api: Api) -> None:
    doc = document(api)
    for template, item in doc["paths"].items():
        documented = {method.upper() for method in item if method in METHODS}
        path = sample_path(template)
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} - documented:
            r = api.request(method, path)
            assert r.status_code == 405, (method, path, r.status_code, r.text)
            assert set(r.headers["Allow"].split(", ")) == documented, (method, path)
            assert "not allowed" in detail(r)


def test_a_path_belongs_to_its_first_template(api: Api) -> None:
    """`/api/products/A/history` is the history of A for every method: PATCH there is not
    an update of a SKU `A/history` (which the document does not list)."""
    add_product(api, "A")
    api.token(Role.ADMIN)
    before = database_snapshot(api.database)
    r = api.patch("/api/products/A/history", json={"name": "renamed"})
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    r = api.get("/api/orders/ref/a/status")
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    assert database_snapshot(api.database) == before
    assert api.get("/api/products/A/history").status_code == 200
    r = api.request("DELETE", "/api/products/A")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, PATCH"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": "B", "name": "n", "unit_price": "1", "active": 0}, "active"),
        ({"sku": "B", "name": "n", "unit_price": "1", "stock": True}, "stock"),
    ],
)
def test_booleans_and_counts_are_not_each_other(api: Api, body: Any, field: str) -> None:
    """The document says boolean and integer; `0` for a flag or `true` for a stock was read
    as the other type."""
    api.token(Role.ADMIN)
    before = database_snapshot(api.database)
    r = api.post("/api/products", json=body)
    assert r.status_code == 422, r.text
    assert field in detail(r)
    assert database_snapshot(api.database) == before


def test_parameter_schemas_carry_the_rules(api: Api) -> None:
    doc = document(api)
    params = {p["name"]: p["schema"] for p in doc["paths"]["/api/orders"]["get"]["parameters"]}
    forms = params["since"]["anyOf"]
    assert {"type": "string", "format": "date-time"} in forms
    assert {"type": "string", "enum": ["today", "yesterday"]} in forms
    assert "null" not in str(params["customer"])  # a query parameter is left out, never null
    assert params["search"]["maxLength"] == 254
    # an empty `since=` fits none of the forms: refused, as the document says
    r = api.get("/api/orders?since=")
    assert r.status_code == 422 and detail(r).startswith("since: ")
    update = doc["components"]["schemas"]["ProductUpdate"]
    assert update["minProperties"] == 1


@pytest.mark.parametrize(
    "user", ["admin", "nobody", " admin", "admin ", "\U0008f791", "a" * 65, "", "ad min"]
)
def test_a_token_for_a_user_is_refused_exactly_when_the_document_says(api: Api, user: str) -> None:
    """`POST /api/auth/tokens` names its user as the document's pattern says, taken as given:
    the document once allowed any non-blank text, which the service then refused (422), a
    failure schemathesis found."""
    schema = document(api)["components"]["schemas"]["TokenRequest"]["properties"]["user"]
    (pattern,) = [form["pattern"] for form in schema["anyOf"] if "pattern" in form]
    api.token(Role.ADMIN)
    r = api.post("/api/auth/tokens", json={"name": "t", "user": user})
    if re.search(pattern, user):
        assert r.status_code in (201, 404), r.text  # 404: no such user
    else:
        assert r.status_code == 422 and detail(r).startswith("body.user: "), r.text
