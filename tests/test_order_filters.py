"""The filters of `orders list` and `GET /api/orders` (DESIGN.md §12): relative times for
`--since/--until` against a pinned clock, whole UTC days, and the refusals (inverted ranges,
garbage times, short searches) made once by `OrderFilters` for both faces."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from helpers import Api, Cli, database_snapshot, one_error
from helpers import seed_orders as seed
from orderctl import clock
from orderctl.enums import Role
from orderctl.parsing import parse_when

#: Seeded orders are two an hour from 2026-11-01T12:00Z (30 of them: the last at 02:00 on the
#: 2nd); "now" is pinned an hour after that.
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)


def test_relative_times_and_utc_days() -> None:
    assert parse_when("90m", end_of_day=False, now=NOW) == datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
    assert parse_when("24H", end_of_day=True, now=NOW) == datetime(2026, 11, 1, 3, tzinfo=UTC)
    assert parse_when(" 7d ", end_of_day=False, now=NOW) == datetime(2026, 10, 26, 3, tzinfo=UTC)
    assert parse_when("today", end_of_day=False, now=NOW) == datetime(2026, 11, 2, tzinfo=UTC)
    assert parse_when("Today", end_of_day=True, now=NOW) == datetime(2026, 11, 3, tzinfo=UTC)
    assert parse_when("yesterday", end_of_day=True, now=NOW) == datetime(2026, 11, 2, tzinfo=UTC)
    assert parse_when("2026-11-01", end_of_day=True) == datetime(2026, 11, 2, tzinfo=UTC)
    assert parse_when("36500d", end_of_day=False, now=NOW).year == 1926
    for garbage in ["7x", "99999d", "36501d", "", " ", "-7d", "7 d", "d", "1e3d", "٣d"]:
        with pytest.raises(ValueError, match="a time ago \\(90m, 24h, 7d"):
            parse_when(garbage, end_of_day=False, now=NOW)


@pytest.mark.usefixtures("pinned")
def test_relative_since_and_until_on_the_cli(cli: Cli) -> None:
    seed(cli.database, 30)

    def count(*args: str) -> int:
        result = cli("orders", "list", "--all", "-o", "jsonl", *args, role=Role.VIEWER)
        assert result.exit_code == 0, result.stderr
        return len(result.stdout.splitlines())

    assert count("--since", "90m") == 2  # 02:00 on the 2nd
    assert count("--since", "3h") == 6  # from midnight
    assert count("--since", "today") == 6
    assert count("--since", "1d") == count("--since", "24h") == 30
    assert count("--since", "yesterday", "--until", "yesterday") == 24  # the whole 1st
    assert count("--until", "yesterday") == 24
    assert count("--until", "today") == 30  # today's orders included
    assert count("--since", "2026-11-02", "--until", "2026-11-02") == 6


@pytest.mark.usefixtures("pinned")
def test_relative_since_on_the_api(cli: Cli, api: Api) -> None:
    seed(cli.database, 30)
    page = api.get("/api/orders?since=90m&limit=100", role=Role.VIEWER).json()
    assert len(page["items"]) == 2
    page = api.get("/api/orders?since=yesterday&until=yesterday&limit=100").json()
    assert len(page["items"]) == 24


REFUSED = [
    (["--min-total", "100", "--max-total", "50"], "inverted range: min_total 100 is above"),
    (["--since", "2026-11-05", "--until", "2026-11-01"], "inverted range: since (2026-11-05"),
    (["--since", "today", "--until", "yesterday"], "inverted range: since"),
    (["--since", "2h", "--until", "3h"], "inverted range: since"),
    (["--since", "7x"], "--since: expected an ISO date or datetime"),
    (["--since", "99999d"], "a time ago (90m, 24h, 7d; up to 36500d)"),
    (["--until", ""], "--until: expected an ISO date"),
    (["--search", "ab"], "search: give 3 to 254 characters (got 2)"),
    (["--search", "  a  "], "search: give 3 to 254 characters (got 1)"),
    (["--search", "x" * 255], "search: give 3 to 254 characters (got 255)"),
    (["--sku", " "], "sku: give a SKU"),
]


@pytest.mark.usefixtures("pinned")
@pytest.mark.parametrize(("args", "needle"), REFUSED)
def test_refused_filters_are_one_usage_error(cli: Cli, args: list[str], needle: str) -> None:
    seed(cli.database, 2)
    cli.token(Role.VIEWER)
    before = database_snapshot(cli.database)
    for all_ in ([], ["--all"]):
        one_error(cli("orders", "list", *args, *all_, role=Role.VIEWER), 2, needle)
    assert database_snapshot(cli.database) == before


def test_control_characters_in_search_or_sku_are_exit_6(cli: Cli) -> None:
    one_error(cli("orders", "list", "--search", "ab\x00c"), 6, "search: must not contain NUL")
    one_error(cli("orders", "list", "--sku", "A\x1bB"), 6, "sku: must not contain control")
    one_error(cli("customers", "list", "--search", "ab"), 2, "search: give 3 to 254")


@pytest.mark.usefixtures("pinned")
@pytest.mark.parametrize(
    "query",
    [
        "min_total=100&max_total=50",
        "since=2026-11-05&until=2026-11-01",
        "since=7x",
        "since=99999d",
        "search=ab",
        "until=",
    ],
)
def test_refused_filters_are_422_on_the_api(api: Api, query: str) -> None:
    r = api.get(f"/api/orders?{query}", role=Role.VIEWER)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    assert json.dumps(detail).count("Traceback") == 0
