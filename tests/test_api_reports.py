"""`GET /api/reports/...` (DESIGN.md §11, §15): the same rows as `orderctl report ... -o json`
for the same parameters, the same refusals (422), viewers allowed, described in OpenAPI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from helpers import Api, Cli, Sold, add_sales, database_snapshot, detail
from orderctl.enums import Role

DAY = datetime(2026, 4, 6, 23, 30, tzinfo=UTC)


@pytest.fixture
def sold(cli: Cli) -> Cli:
    add_sales(
        cli.database,
        [
            Sold(f"c{n % 4}@example.com", status, cur, DAY + timedelta(hours=5 * n),
                 [("A", 1 + n % 3, "3.10"), ("B", 1, "12.00")])
            for n in range(12)
            for status, cur in (("paid", "EUR"), ("delivered", "USD"), ("pending", "EUR"))
        ],
    )  # fmt: skip
    return cli


CASES = [
    ("sales", {"since": "2026-04-06", "until": "2026-04-08"}),
    ("sales", {"by": "week", "since": "2026-04-01", "until": "2026-04-20"}),
    ("sales", {"since": "2026-04-07T04:30:00Z", "status": ["pending", "paid"]}),
    ("products", {"top": 1, "since": "2026-04-07"}),
    ("products", {}),
    ("customers", {"top": 2}),
    ("status", {}),
]


def _cli_args(params: dict[str, object]) -> list[str]:
    args: list[str] = []
    for key, value in params.items():
        for one in value if isinstance(value, list) else [value]:
            args += [f"--{key}", str(one)]
    return args


@pytest.mark.parametrize(("name", "params"), CASES)
def test_api_rows_are_the_cli_json_rows(
    sold: Cli, api: Api, name: str, params: dict[str, object]
) -> None:
    r = api.get(f"/api/reports/{name}", params=params, role=Role.VIEWER)
    assert r.status_code == 200, r.text
    cli = sold("report", name, *_cli_args(params), "-o", "json", role=Role.VIEWER)
    assert r.json() == json.loads(cli.stdout)
    assert r.json(), "the case should have rows"


@pytest.mark.parametrize(
    ("name", "params", "needle"),
    [
        ("products", {"top": 0}, "top"),
        ("customers", {"top": 1001}, "top"),
        ("customers", {"top": "lots"}, "top"),
        ("sales", {"by": "year"}, "by"),
        ("sales", {"since": "soon"}, "since"),
        ("sales", {"since": "2026-04-09", "until": "2026-04-08"}, "range is empty"),
        ("sales", {"status": "lost"}, "status"),
    ],
)
def test_api_refusals_are_422_and_change_nothing(
    sold: Cli, api: Api, name: str, params: dict[str, object], needle: str
) -> None:
    api.token(Role.VIEWER)
    before = database_snapshot(api.database)
    r = api.get(f"/api/reports/{name}", params=params, role=Role.VIEWER)
    assert r.status_code == 422, r.text
    assert needle in detail(r)
    assert database_snapshot(api.database) == before


def test_api_reports_need_a_token(api: Api) -> None:
    for name in ("sales", "products", "customers", "status"):
        assert api.get(f"/api/reports/{name}", role=None).status_code == 401


def test_openapi_describes_the_report_rows(api: Api) -> None:
    doc = api.get("/openapi.json", role=None).json()
    sales = doc["paths"]["/api/reports/sales"]["get"]
    assert {p["name"] for p in sales["parameters"]} == {"by", "since", "until", "status"}
    answer = sales["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["items"]["$ref"].endswith("/SalesRow")
    row = doc["components"]["schemas"]["SalesRow"]["properties"]
    assert list(row) == [
        "period", "currency", "orders", "units", "revenue", "average_order_value",
    ]  # fmt: skip
    assert row["revenue"]["type"] == "string"
    for name in ("products", "customers", "status"):
        assert f"/api/reports/{name}" in doc["paths"]
