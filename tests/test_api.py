"""The HTTP API (DESIGN.md §11) with FastAPI's TestClient, on SQLite and PostgreSQL: health,
logins and bearer tokens. The catalog, orders, roles and errors have files of their own."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from helpers import (
    PASSWORD,
    Api,
    Cli,
    create_user,
    database_snapshot,
    detail,
)
from orderctl.api.app import create_app
from orderctl.db import Database
from orderctl.enums import Role

# ---- health, auth ----


def test_healthz_ok(api: Api) -> None:
    r = api.get("/healthz", role=None)
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert api.request("HEAD", "/healthz", role=None).status_code == 200


def test_logout_revokes_the_bearer_token(api: Api) -> None:
    create_user(api.database, "erin", Role.VIEWER, PASSWORD)
    form = {"username": "erin", "password": PASSWORD}
    token = api.post("/api/auth/token", role=None, data=form).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/auth/me", headers=bearer).status_code == 200
    r = api.client.delete("/api/auth/token", headers=bearer)
    assert r.status_code == 204 and r.content == b""
    r = api.client.get("/api/auth/me", headers=bearer)
    assert r.status_code == 401 and "revoked" in detail(r)
    assert api.client.delete("/api/auth/token", headers=bearer).status_code == 204
    for headers in ({}, {"Authorization": "Bearer oct_unknown"}):
        assert api.client.delete("/api/auth/token", headers=headers).status_code == 401


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
    before = database_snapshot(api.database)
    for data, content_type, status in BAD_LOGINS:
        if content_type == "application/json":
            r = api.post("/api/auth/token", role=None, json=data)
        else:
            r = api.post("/api/auth/token", role=None, data=data)
        assert r.status_code == status, (data, r.text)
        detail(r)
        if status == 401:
            assert r.headers["WWW-Authenticate"] == "Bearer"
        after = database_snapshot(api.database)
        # A wrong password is counted on the user (the lockout); nothing else may change.
        assert {**after, "users": len(after["users"])} == {**before, "users": 1}


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
        assert "orderctl auth login" not in detail(r)


def test_revoked_and_disabled_are_401(api: Api, cli: Cli) -> None:
    token = api.token(Role.VIEWER)
    assert api.get("/api/orders", role=Role.VIEWER).status_code == 200
    result = cli("users", "disable", "api-viewer", "--yes")
    assert result.exit_code == 0, result.stderr
    r = api.get("/api/orders", role=Role.VIEWER)
    assert r.status_code == 401 and "disabled" in detail(r)
    assert token


def test_named_tokens(api: Api) -> None:
    r = api.post("/api/auth/tokens", role=Role.VIEWER, json={"name": "cron", "expires": "7d"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["token"]["user"] == "api-viewer" and made["token"]["name"] == "cron"
    bearer = {"Authorization": f"Bearer {made['access_token']}"}
    assert api.client.get("/api/auth/me", headers=bearer).json()["username"] == "api-viewer"
    names = [t["name"] for t in api.get("/api/auth/tokens", role=Role.VIEWER).json()]
    assert "cron" in names
    r = api.get("/api/auth/tokens?all=true", role=Role.VIEWER)
    assert r.status_code == 403
    r = api.post("/api/auth/tokens", role=Role.VIEWER, json={"name": "x", "user": "api-admin"})
    assert r.status_code == 403
    r = api.post("/api/auth/tokens", json={"name": "for-viewer", "user": "api-viewer"})
    assert r.status_code == 201 and r.json()["token"]["user"] == "api-viewer"
    never = api.post("/api/auth/tokens", json={"name": "forever", "expires": "never"}).json()
    assert never["token"]["expires_at"] is None
    for bad in (
        {"name": "x", "expires": "soon"},
        {"name": "x", "expires": "0d"},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "nul\x00"},
        {"name": "x", "user": "nobody"},
        {"name": "x", "colour": "blue"},
    ):
        r = api.post("/api/auth/tokens", json=bad)
        assert r.status_code in (404, 422), (bad, r.text)
    token_id = made["token"]["id"]
    r = api.request("DELETE", f"/api/auth/tokens/{token_id}", role=Role.VIEWER)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert api.client.get("/api/auth/me", headers=bearer).status_code == 401
    admin_token = never["token"]["id"]
    r = api.request("DELETE", f"/api/auth/tokens/{admin_token}", role=Role.VIEWER)
    assert r.status_code == 403
    assert api.request("DELETE", "/api/auth/tokens/99999999999").status_code == 404
