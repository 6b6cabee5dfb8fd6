"""`GET /api/orders/export` (DESIGN.md §11, §14): JSON lines in the import format, streamed,
with the filters of `GET /api/orders`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from helpers import Api, count_statements, detail, seed_orders
from orderctl.api.app import create_app
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.services import order_listing

N_ORDERS = 300
BATCH = 20


def test_export_lines_are_those_of_the_cli(api: Api, database: Database) -> None:
    seed_orders(database, 12)
    response = api.get("/api/orders/export?status=paid&min_total=40", role=Role.VIEWER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines and all(line["status"] == "paid" for line in lines)
    listed = api.get("/api/orders?status=paid&min_total=40&sort=created&limit=100").json()
    assert [line["external_ref"] for line in lines] == [
        doc["external_ref"] for doc in listed["items"]
    ]
    assert set(lines[0]) == {
        "external_ref", "customer_email", "status", "currency", "created_at", "items"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "status", "needle"),
    [("since=someday", 422, "since"), ("status=lost", 422, "status"), ("min_total=x", 422, "")],
)
def test_bad_filters(api: Api, query: str, status: int, needle: str) -> None:
    response = api.get(f"/api/orders/export?{query}", role=Role.VIEWER)
    assert response.status_code == status, response.text
    assert needle in detail(response)


def test_needs_a_token(api: Api) -> None:
    assert api.get("/api/orders/export", role=None).status_code == 401


def test_streams_the_first_lines_before_reading_the_rest(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first body chunk is sent while most batches are still unread: at that moment
    fewer statements have run than by the end (a buffered answer would read them all first)."""
    seed_orders(database, N_ORDERS)
    monkeypatch.setattr(order_listing, "STREAM_BATCH", BATCH)
    token = api.token(Role.VIEWER)
    app = create_app(database=database)
    chunks: list[bytes] = []
    at_first_chunk: list[int] = []
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/orders/export", "raw_path": b"/api/orders/export",
        "root_path": "", "query_string": b"", "server": ("test", 80), "client": ("test", 1),
        "headers": [(b"authorization", f"Bearer {token}".encode()), (b"host", b"test")],
    }  # fmt: skip

    async def run() -> None:
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()  # the client never goes away
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                assert message["status"] == 200
            elif message["type"] == "http.response.body" and message.get("body"):
                if not chunks:
                    at_first_chunk.append(len(statements))
                chunks.append(message["body"])

        await app(scope, receive, send)

    with count_statements(database) as statements:
        asyncio.run(run())
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == N_ORDERS
    batches = N_ORDERS // BATCH
    assert at_first_chunk[0] + batches <= len(statements), (at_first_chunk, len(statements))
