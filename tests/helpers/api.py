"""The HTTP API through FastAPI's TestClient, as a given user, and the bodies tests send."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from helpers.cli import PASSWORD, create_token, create_user
from orderctl.db import Database
from orderctl.enums import Role


@dataclass
class Api:
    """A TestClient on the test database; `api.get(path, role=Role.VIEWER)` sends that role's
    bearer token (`role=None`: no token)."""

    client: TestClient
    database: Database
    tokens: dict[Role, str] = field(default_factory=dict)

    def token(self, role: Role) -> str:
        if role not in self.tokens:
            name = f"api-{role.value}"
            create_user(self.database, name, role, PASSWORD)
            self.tokens[role] = create_token(self.database, name)
        return self.tokens[role]

    def headers(self, role: Role | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if role is not None:
            headers["Authorization"] = f"Bearer {self.token(role)}"
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        role: Role | None = Role.ADMIN,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Response:
        return self.client.request(method, path, headers=self.headers(role, headers), **kwargs)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Response:
        return self.request("PATCH", path, **kwargs)


def detail(response: Response) -> str:
    body = response.json()
    assert set(body) <= {"detail", "errors"}, body
    value = body["detail"]
    assert isinstance(value, str)
    return value


def add_product(
    api: Api, sku: str = "MUG-01", price: str = "12.50", stock: int | None = 100
) -> None:
    body: dict[str, Any] = {"sku": sku, "name": f"Product {sku}", "unit_price": price}
    if stock is not None:
        body["stock"] = stock
    r = api.post("/api/products", json=body)
    assert r.status_code == 201, r.text


def order_body(
    email: str = "ana@example.com", items: list[tuple[str, int]] | None = None, **extra: Any
) -> dict[str, Any]:
    lines = items or [("MUG-01", 2)]
    return {
        "customer_email": email,
        "items": [{"sku": sku, "quantity": qty} for sku, qty in lines],
        **extra,
    }
