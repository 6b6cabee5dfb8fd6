"""Reports for people and for programs (DESIGN.md §12, §15): on a terminal a bar per row and
the sales chart, fitting the terminal's width; in a pipe plain rows, no bar, no chart."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from helpers import Cli, Sold, add_sales

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
BLOCKS = set("▁▂▃▄▅▆▇█▏▎▍▌▋▊▉")
FIRST = datetime(2025, 12, 1, 10, tzinfo=UTC)


@pytest.fixture
def sold(cli: Cli) -> Cli:
    orders = [
        Sold(
            f"c{n % 7}@example.com",
            "paid",
            "EUR" if n % 3 else "USD",
            FIRST + timedelta(days=n),
            [("A", 1 + n % 5, "12.50"), ("LONG-SKU-" + "X" * 30, 1, "99.99")],
        )
        for n in range(0, 120, 2)
    ]
    add_sales(cli.database, orders)
    return cli


def shown(cli: Cli, *args: str, columns: int = 80) -> list[str]:
    run = cli.on_terminal("report", *args, columns=columns)
    assert run.exit_code == 0, run.output
    return ESCAPES.sub("", run.output).splitlines()


def test_sales_on_a_terminal_has_bars_and_a_chart_that_fit_80_columns(sold: Cli) -> None:
    lines = shown(sold, "sales", "--since", "2026-01-01", "--until", "2026-01-30")
    assert max(len(line) for line in lines) <= 80
    table = [line for line in lines if line.startswith(" 2026-01-")]
    assert len(table) == 60  # 30 days x EUR, USD
    assert any(BLOCKS & set(line) for line in table)
    titles = [n for n, line in enumerate(lines) if line.startswith("revenue per day (")]
    assert [lines[n] for n in titles] == ["revenue per day (EUR)", "revenue per day (USD)"]
    chart = lines[titles[0] + 1 : titles[1]]
    assert len(chart) == 8 + 2  # 8 rows, the axis, the first and last period
    assert chart[-1].split() == ["2026-01-01", "2026-01-30"]


def test_chart_draws_larger_and_squeezes_a_long_series(sold: Cli) -> None:
    lines = shown(sold, "sales", "--since", "2025-06-01", "--until", "2026-03-31", "--chart")
    assert max(len(line) for line in lines) <= 80
    title = next(n for n, line in enumerate(lines) if line.startswith("revenue per day (EUR)"))
    assert "periods per column" in lines[title]  # 304 days on ~70 columns
    assert set(lines[title + 1 : title + 21][-1]) & BLOCKS  # 20 rows, the lowest one drawn
    assert "└" in lines[title + 21]
    # The whole series is drawn: the axis ends with the last period, not cut at the edge.
    assert lines[title + 22].split() == ["2025-06-01", "2026-03-31"]


@pytest.mark.parametrize("args", [["products"], ["customers"], ["status"]])
def test_ranked_reports_on_a_narrow_terminal(sold: Cli, args: list[str]) -> None:
    lines = shown(sold, *args, columns=60)
    assert max(len(line) for line in lines) <= 60
    assert any(BLOCKS & set(line) for line in lines)


def test_status_on_a_terminal_shows_pending_ages_as_a_second_table(cli: Cli) -> None:
    add_sales(cli.database, [Sold("a@example.com", "pending", "EUR", FIRST, [("A", 1, "1.00")])])
    lines = shown(cli, "status")
    assert any(line.split()[:4] == ["older", "│", "EUR", "│"] for line in lines if line.strip())


@pytest.mark.parametrize(
    "args",
    [
        ["sales", "--since", "2026-01-01"],
        ["sales", "--chart", "--since", "2026-01-01"],
        ["products"],
        ["customers"],
        ["status"],
    ],
)
def test_in_a_pipe_no_bar_and_no_chart(sold: Cli, args: list[str]) -> None:
    result = sold("report", *args)
    assert result.exit_code == 0, result.stderr
    assert not BLOCKS & set(result.stdout)
    assert "revenue per" not in result.stdout and "\x1b" not in result.stdout
