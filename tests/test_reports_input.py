"""Reports refuse what they cannot answer (exit 2, one `error:` line, nothing written), answer
an empty database with no rows, run for viewers, and cost one SQL statement each."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from helpers import Cli, Sold, add_sales, count_statements, database_snapshot, one_error
from orderctl.enums import ReportPeriod, Role
from orderctl.services import reports
from orderctl.services.uow import UnitOfWork

REPORTS = [["sales"], ["products"], ["customers"], ["status"]]


@pytest.fixture
def sold(cli: Cli) -> Cli:
    day = datetime(2026, 4, 1, 9, tzinfo=UTC)
    add_sales(cli.database, [Sold("ann@example.com", "paid", "EUR", day, [("A", 1, "10.00")])])
    return cli


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["products", "--top", "0"], "--top"),
        (["products", "--top", "-1"], "--top"),
        (["products", "--top", "1001"], "--top"),
        (["customers", "--top", "1000000"], "--top"),
        (["customers", "--top", "99999999999999999999999"], "--top"),
        (["customers", "--top", "ten"], "--top"),
        (["sales", "--by", "year"], "--by"),
        (["sales", "--by", ""], "--by"),
        (["sales", "--status", "lost"], "--status"),
        (["sales", "--since", "yesterday-ish"], "--since"),
        (["sales", "--until", "2026-02-30"], "--until"),
        (["sales", "--since", "2026-04-02", "--until", "2026-04-01"], "range is empty"),
        (["sales", "--since", "2026-04-01T12:00Z", "--until", "2026-04-01T12:00Z"], "empty"),
        (["products", "--since", "2026-04-02", "--until", "2026-04-01"], "range is empty"),
        (["sales", "--since", "1900-01-01", "--until", "2026-01-01"], "10,000 periods"),
        (["sales", "--chart", "-o", "json"], "--chart"),
        (["status", "--top", "3"], "--top"),
    ],
)
def test_bad_input_is_a_usage_error_and_changes_nothing(
    sold: Cli, args: list[str], needle: str
) -> None:
    sold.token(Role.VIEWER)
    before = database_snapshot(sold.database)
    one_error(sold("report", *args, role=Role.VIEWER), 2, needle)
    assert database_snapshot(sold.database) == before


def test_the_longest_series_is_accepted(sold: Cli) -> None:
    result = sold("report", "sales", "--since", "2000-01-01", "--until", "2027-05-18", "-o", "csv")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1 + reports.PERIODS_MAX


@pytest.mark.parametrize("args", REPORTS)
def test_an_empty_database_gives_no_rows(cli: Cli, args: list[str]) -> None:
    result = cli("report", *args, "-o", "json")
    assert (result.exit_code, result.stdout) == (0, "[]\n")
    assert cli("report", *args, "-o", "jsonl").stdout == ""
    header = cli("report", *args, "-o", "csv").stdout
    assert header.count("\n") == 1 and header.startswith(("period,", "currency,", "status,"))
    table = cli("report", *args)
    assert (table.exit_code, table.stdout) == (0, "")
    assert table.stderr.startswith("no ")


@pytest.mark.parametrize("args", REPORTS)
def test_viewers_may_run_reports_and_no_token_may_not(sold: Cli, args: list[str]) -> None:
    result = sold("report", *args, "-o", "json", role=Role.VIEWER)
    assert result.exit_code == 0, result.stderr
    one_error(sold("report", *args, role=None), 3)


def _runs(actor: Any) -> dict[str, Any]:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        "sales": lambda u: reports.sales_report(u, actor, by=ReportPeriod.WEEK, since=since),
        "products": lambda u: reports.products_report(u, actor, top=5, since=since),
        "customers": lambda u: reports.customers_report(u, actor, top=5),
        "status": lambda u: reports.status_report(u, actor),
    }


@pytest.mark.parametrize("name", ["sales", "products", "customers", "status"])
def test_each_report_is_one_statement(sold: Cli, name: str) -> None:
    actor = sold.actor(Role.VIEWER)
    add_sales(
        sold.database,
        [
            Sold(f"c{n}@example.com", status, cur, datetime(2026, 4, n, tzinfo=UTC),
                 [("A", n, "1.00"), ("B", 1, "2.00")])
            for n in range(1, 20)
            for status, cur in (("paid", "EUR"), ("shipped", "USD"), ("pending", "EUR"))
        ],
    )  # fmt: skip
    with UnitOfWork(sold.database, write=False) as u, count_statements(sold.database) as sent:
        rows = _runs(actor)[name](u)
    assert rows
    selects = [s for s in sent if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(selects) == 1, sent


def test_sales_json_rows_are_the_documents(sold: Cli) -> None:
    rows = json.loads(sold("report", "sales", "--since", "2026-04-01", "-o", "json").stdout)
    assert rows[0] == {
        "period": "2026-04-01",
        "currency": "EUR",
        "orders": 1,
        "units": 1,
        "revenue": "10.00",
        "average_order_value": "10.00",
    }
