"""`GET /api/events` (DESIGN.md §11, §16): a cursor over order events and a long poll that
answers as soon as an event is committed, or with nothing when `wait` runs out."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from helpers import FOLLOW_WAIT, Api, Shop, ago, detail
from orderctl.db import Database
from orderctl.enums import OrderStatus, Role
from orderctl.repositories import events as events_repository
from orderctl.repositories.events import EventRepository
from orderctl.services import orders
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork


def _events(api: Api, **params: Any) -> dict[str, Any]:
    response = api.get("/api/events", role=Role.VIEWER, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_cursor_over_the_events(api: Api, database: Database) -> None:
    shop = Shop(database)
    for _ in range(3):
        shop.order("pending", created=ago(hours=1))
    newest = _events(api)
    assert [e["id"] for e in newest["items"]] == [1, 2, 3] and newest["next_after"] == 3
    assert newest["items"][0]["action"] == "created"
    assert _events(api, after=3) == {"items": [], "next_after": 3}
    page = _events(api, after=0, limit=2)
    assert [e["id"] for e in page["items"]] == [1, 2] and page["next_after"] == 2
    rest = _events(api, after=page["next_after"])
    assert [e["id"] for e in rest["items"]] == [3]
    assert [e["id"] for e in _events(api, after=0, order="2")["items"]] == [2]
    assert _events(api, action="imported")["items"] == []


def test_the_long_poll_answers_when_an_event_is_committed(
    backend: str,
    api: Api,
    database: Database,
    operator: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On PostgreSQL the periodic re-check is pushed past the test's limit: only the
    commit's NOTIFY can wake the request in time. SQLite polls."""
    if backend == "postgresql":
        monkeypatch.setattr(events_repository, "RECHECK", 45.0)
    order = Shop(database).order("pending", created=ago(hours=1))
    waiting = threading.Event()
    after = EventRepository.after

    def after_then_signal(self: EventRepository, *args: Any, **kwargs: Any) -> Any:
        found = after(self, *args, **kwargs)
        if not found:
            waiting.set()  # the request found nothing and is about to wait
        return found

    monkeypatch.setattr(EventRepository, "after", after_then_signal)
    answer: list[dict[str, Any]] = []
    request = threading.Thread(target=lambda: answer.append(_events(api, after=1, wait=50)))
    started = time.monotonic()
    request.start()
    assert waiting.wait(FOLLOW_WAIT)
    with UnitOfWork(database) as u:
        orders.set_status(u, operator, order, OrderStatus.PAID, reason="now")
    request.join(FOLLOW_WAIT)
    assert time.monotonic() - started < 40  # well before its 50 s wait ran out
    [body] = answer
    assert [(e["id"], e["to_status"], e["reason"]) for e in body["items"]] == [(2, "paid", "now")]
    assert body["next_after"] == 2


def test_the_long_poll_ends_empty_when_nothing_comes(api: Api, database: Database) -> None:
    Shop(database).order("pending", created=ago(hours=1))
    started = time.monotonic()
    assert _events(api, after=1, wait=0.3) == {"items": [], "next_after": 1}
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ({"wait": 61}, 422, "wait"),
        ({"wait": -1}, 422, "wait"),
        ({"after": -1}, 422, "after"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 1001}, 422, "limit"),
        ({"action": "bogus"}, 422, "action"),
        ({"order": "999"}, 404, "order 999 not found"),
    ],
)
def test_bad_parameters(
    api: Api, database: Database, params: dict[str, Any], status: int, needle: str
) -> None:
    response = api.get("/api/events", role=Role.VIEWER, params=params)
    assert response.status_code == status, response.text
    assert needle in response.text


def test_a_token_is_needed(api: Api) -> None:
    response = api.get("/api/events", role=None)
    assert response.status_code == 401 and "not authenticated" in detail(response)
