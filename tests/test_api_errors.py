"""The HTTP API's role matrix and error mapping (DESIGN.md §11): each refusal has its status
code and one line of detail, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers import (
    Api,
    add_product,
    database_snapshot,
    detail,
    order_body,
)
from orderctl.enums import Role

# ---- the role matrix ----


def _matrix_setup(api: Api) -> dict[str, Any]:
    add_product(api, "MUG-01", "12.50", 1000)
    ids = {}
    for role in Role:
        body = order_body(f"{role.value}@example.com", external_ref=f"m-{role.value}")
        r = api.post("/api/orders", json=body)
        assert r.status_code == 201, r.text
        ids[role] = r.json()["id"]
        r = api.post(
            "/api/users",
            json={"username": f"t-{role.value}", "role": "viewer", "password": "x" * 8},
        )
        assert r.status_code == 201, r.text
    return {"orders": ids}


#: (method, path template, body builder, the least role). `{role}` is the caller's role.
MATRIX: list[tuple[str, str, Any, Role]] = [
    ("GET", "/api/auth/me", None, Role.VIEWER),
    ("GET", "/api/orders", None, Role.VIEWER),
    ("GET", "/api/orders/{order}", None, Role.VIEWER),
    ("GET", "/api/orders/{order}/history", None, Role.VIEWER),
    ("GET", "/api/orders/ref/m-{role}", None, Role.VIEWER),
    ("GET", "/api/auth/tokens", None, Role.VIEWER),
    ("GET", "/api/auth/tokens?all=true", None, Role.ADMIN),
    ("POST", "/api/orders", lambda r: order_body(f"new-{r}@example.com"), Role.OPERATOR),
    ("POST", "/api/orders/{order}/status", lambda r: {"status": "paid"}, Role.OPERATOR),
    ("GET", "/api/products", None, Role.VIEWER),
    ("GET", "/api/products/MUG-01", None, Role.VIEWER),
    (
        "POST",
        "/api/products",
        lambda r: {"sku": f"P-{r}", "name": "n", "unit_price": "1"},
        Role.ADMIN,
    ),
    ("PATCH", "/api/products/MUG-01", lambda r: {"name": f"renamed by {r}"}, Role.ADMIN),
    ("GET", "/api/customers", None, Role.VIEWER),
    ("GET", "/api/customers/viewer@example.com", None, Role.VIEWER),
    ("POST", "/api/customers", lambda r: {"email": f"c-{r}@example.com"}, Role.OPERATOR),
    ("GET", "/api/users", None, Role.ADMIN),
    (
        "POST",
        "/api/users",
        lambda r: {"username": f"u-{r}", "role": "viewer", "password": "x" * 8},
        Role.ADMIN,
    ),
    ("PATCH", "/api/users/t-{role}", lambda r: {"role": "operator"}, Role.ADMIN),
]


def test_role_matrix(api: Api) -> None:
    setup = _matrix_setup(api)
    for method, template, body, least in MATRIX:
        for role in Role:
            path = template.format(order=setup["orders"][role], role=role.value)
            kwargs: dict[str, Any] = {} if body is None else {"json": body(role.value)}
            before = database_snapshot(api.database)
            r = api.request(method, path, role=role, **kwargs)
            what = f"{role.value} {method} {path}"
            if role.rank >= least.rank:
                assert 200 <= r.status_code < 300, (what, r.text)
            else:
                assert r.status_code == 403, (what, r.text)
                assert "permission denied" in detail(r)
                assert database_snapshot(api.database) == before, what


def test_role_is_checked_before_the_body(api: Api) -> None:
    """A viewer learns nothing about validation rules of writes it may not do."""
    for path, body in (
        ("/api/products", {"sku": ""}),
        ("/api/orders", {"items": "nope"}),
        ("/api/users", {}),
    ):
        r = api.post(path, role=Role.VIEWER, json=body)
        assert r.status_code == 403, (path, r.text)


# ---- error mapping ----


def test_request_validation_is_422_with_one_line(api: Api) -> None:
    r = api.get("/api/orders?limit=0")
    assert r.status_code == 422
    assert detail(r).startswith("query.limit: ")
    assert r.json()["errors"][0]["loc"] == ["query", "limit"]
    r = api.get("/api/orders/ref/" + "r" * 101)
    assert r.status_code == 422 and detail(r).startswith("path.external_ref")
    r = api.post("/api/orders", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = api.get("/api/orders?limit=" + "9" * 400)
    assert r.status_code == 422


def test_unexpected_errors_are_500_without_traceback(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orderctl.services import products

    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret internals /etc/passwd")

    boom.required_role = Role.VIEWER  # type: ignore[attr-defined]
    monkeypatch.setattr(products, "list_products", boom)
    r = api.get("/api/products")
    assert r.status_code == 500
    assert r.json() == {"detail": "internal server error"}
    assert "secret" not in r.text and "Traceback" not in r.text


def test_error_status_table() -> None:
    from orderctl import errors as e
    from orderctl.api.errors import status_for

    cases = {
        e.NotAuthenticated: 401,
        e.PermissionDenied: 403,
        e.NotFound: 404,
        e.Conflict: 409,
        e.InvalidTransition: 409,
        e.InsufficientStock: 409,
        e.ValidationFailed: 422,
        e.RuleViolation: 422,
        e.UsageError: 422,
        e.DatabaseUnavailable: 503,
        e.OrderctlError: 500,
    }
    for cls, status in cases.items():
        assert status_for(cls("x")) == status, cls


def test_openapi_document(api: Api) -> None:
    doc = api.get("/openapi.json", role=None).json()
    assert "/api/orders" in doc["paths"] and "/api/auth/token" in doc["paths"]
    token_body = doc["paths"]["/api/auth/token"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in token_body


def test_database_errors_that_escape_are_mapped(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import exc

    from orderctl.services import products

    raised: list[Exception] = []

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise raised[-1]

    fail.required_role = Role.VIEWER  # type: ignore[attr-defined]
    monkeypatch.setattr(products, "list_products", fail)
    cases = [
        (exc.TimeoutError("QueuePool limit reached"), 503, "connections are busy"),
        (exc.DataError("SELECT 1", {}, ValueError("NUL byte")), 422, "cannot be stored"),
        (exc.OperationalError("SELECT 1", {}, OSError("server closed")), 503, "cannot reach"),
        (exc.IntegrityError("INSERT", {}, ValueError("duplicate key")), 409, "conflicts"),
        (exc.InvalidRequestError("weird"), 500, "internal server error"),
    ]
    for error, status, needle in cases:
        raised.append(error)
        r = api.get("/api/products")
        assert r.status_code == status, (error, r.text)
        assert needle in detail(r)
        assert "SELECT" not in r.text and "Traceback" not in r.text


def test_huge_bodies_are_413_before_parsing(api: Api) -> None:
    from orderctl.api.limits import MAX_BODY_BYTES

    big = {"customer_email": "a@b.io", "items": [], "notes": "x" * (MAX_BODY_BYTES + 10)}
    r = api.post("/api/orders", json=big)
    assert r.status_code == 413 and "too large" in detail(r)

    def chunks() -> Any:
        yield b'{"customer_email": "a@b.io", "notes": "'
        for _ in range(20):
            yield b"y" * 65536
        yield b'"}'

    r = api.post("/api/orders", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "too large" in detail(r)
    # the biggest well-formed order is far below the cap: it is parsed (422: unknown SKUs)
    body = order_body(
        items=[("S" * 60 + f"{i:04d}", 100_000) for i in range(1000)], notes="é" * 2000
    )
    assert len(json.dumps(body)) < MAX_BODY_BYTES / 4
    r = api.post("/api/orders", json=body)
    assert r.status_code == 422 and "unknown SKU" in detail(r)
