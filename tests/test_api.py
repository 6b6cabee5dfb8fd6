"""The HTTP API (DESIGN.md §11) with FastAPI's TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from tests.conftest import Cli, create_token, create_user

from orderctl.api.app import create_app
from orderctl.db import Database
from orderctl.enums import Role

PASSWORD = "correct horse 1"


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


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its defaults costs ~0.3 s a hash; these tests are about HTTP, not hashing."""
    from argon2 import PasswordHasher

    from orderctl.services import auth

    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("orderctl-dummy-password"))


@pytest.fixture
def api(database: Database) -> Iterator[Api]:
    app = create_app(database=database)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client=client, database=database)


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


def row_counts(database: Database) -> dict[str, int]:
    from sqlalchemy import text

    counts = {}
    with database.engine.connect() as conn:
        for table in ("users", "customers", "products", "orders", "order_items", "order_events"):
            counts[table] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    return counts


# ---- health, auth ----


def test_healthz_ok(api: Api) -> None:
    r = api.get("/healthz", role=None)
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_healthz_503_on_unmigrated_database(empty_db_url: str) -> None:
    db = Database(empty_db_url)
    try:
        with TestClient(create_app(database=db)) as client:
            r = client.get("/healthz")
            assert r.status_code == 503
            assert "orderctl db upgrade" in r.json()["detail"]
            # every other endpoint answers 503 too, before looking at the token (§3)
            r = client.get("/api/orders")
            assert r.status_code == 503
            assert "orderctl db upgrade" in r.json()["detail"]
    finally:
        db.dispose()


def test_database_down_is_503_without_leaking_the_url(backend: str, tmp_path: Any) -> None:
    url = (
        f"sqlite:///{tmp_path}/no/such/dir/x.db"
        if backend == "sqlite"
        else "postgresql+psycopg://secretuser:hunter2@127.0.0.1:1/none"
    )
    db = Database(url)
    try:
        with TestClient(create_app(database=db)) as client:
            for path in ("/healthz", "/api/orders", "/api/auth/me"):
                r = client.get(path, headers={"Authorization": "Bearer oct_x"})
                assert r.status_code == 503, (path, r.text)
                body = r.json()["detail"]
                assert body == "database unavailable: cannot reach the database"
    finally:
        db.dispose()


def test_token_login_and_me(api: Api) -> None:
    create_user(api.database, "alice", Role.OPERATOR, PASSWORD)
    r = api.post("/api/auth/token", role=None, data={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"].startswith("oct_")
    assert body["expires_at"].endswith("Z")
    me = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "alice" and me.json()["role"] == "operator"
    assert set(me.json()) == {"id", "username", "role", "active", "created_at"}


def test_token_works_in_the_cli_too(api: Api, cli: Cli) -> None:
    """The API's token is the same kind `auth login` makes."""
    create_user(api.database, "bob", Role.VIEWER, PASSWORD)
    token = api.post(
        "/api/auth/token", role=None, data={"username": "bob", "password": PASSWORD}
    ).json()["access_token"]
    result = cli("customers", "list", role=None, env={"ORDERCTL_TOKEN": token})
    assert result.exit_code == 0, result.stderr


BAD_LOGINS: list[tuple[dict[str, str], str | None, int]] = [
    ({"username": "alice", "password": "wrong password"}, None, 401),
    ({"username": "nobody", "password": PASSWORD}, None, 401),
    ({"username": "alice' OR '1'='1", "password": "x' OR '1'='1"}, None, 401),
    ({"username": "al\x00ice", "password": PASSWORD}, None, 422),
    ({"username": "alice"}, None, 422),
    ({"password": PASSWORD}, None, 422),
    ({"username": "", "password": ""}, None, 422),
    ({"username": "alice", "password": PASSWORD, "grant_type": "client_credentials"}, None, 422),
    ({"username": "alice", "password": PASSWORD}, "application/json", 415),
    ({"username": "😀" * 500, "password": "ש" * 1000}, None, 401),
]


def test_token_bad_input(api: Api) -> None:
    create_user(api.database, "alice", Role.OPERATOR, PASSWORD)
    before = row_counts(api.database)
    for data, content_type, status in BAD_LOGINS:
        if content_type == "application/json":
            r = api.post("/api/auth/token", role=None, json=data)
        else:
            r = api.post("/api/auth/token", role=None, data=data)
        assert r.status_code == status, (data, r.text)
        detail(r)
        if status == 401:
            assert r.headers["WWW-Authenticate"] == "Bearer"
        assert row_counts(api.database) == before


def test_token_body_too_large_and_raw_garbage(api: Api) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = api.post("/api/auth/token", role=None, headers=form, content=b"a=" + b"x" * 20000)
    assert r.status_code == 413
    r = api.post("/api/auth/token", role=None, headers=form, content=b"\xff\xfe\x00")
    assert r.status_code == 422
    r = api.post(
        "/api/auth/token", role=None, headers=form, content=b"username=a&username=b&password=c"
    )
    assert r.status_code == 422 and "more than once" in detail(r)


def test_bad_tokens_are_401_with_www_authenticate(api: Api) -> None:
    for header in (
        None,
        "Bearer",
        "Bearer nonsense",
        "Bearer oct_" + "x" * 43,
        "Basic dXNlcjpwYXNz",
        "Bearer oct_ünïcødé".encode(),
        "Bearer oct_' OR 1=1 --",
    ):
        headers: dict[str, Any] = {} if header is None else {"Authorization": header}
        r = api.client.get("/api/orders", headers=headers)
        assert r.status_code == 401, (header, r.text)
        assert r.headers["WWW-Authenticate"] == "Bearer"
        detail(r)


def test_revoked_and_disabled_are_401(api: Api, cli: Cli) -> None:
    token = api.token(Role.VIEWER)
    assert api.get("/api/orders", role=Role.VIEWER).status_code == 200
    result = cli("users", "disable", "api-viewer")
    assert result.exit_code == 0, result.stderr
    r = api.get("/api/orders", role=Role.VIEWER)
    assert r.status_code == 401 and "disabled" in detail(r)
    assert token
