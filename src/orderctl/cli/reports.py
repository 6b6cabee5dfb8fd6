"""`orderctl report`: sales per period, products, customers, orders by status (DESIGN.md §15)."""

from __future__ import annotations

from typing import Annotated

import typer

from orderctl.cli.context import get_state
from orderctl.cli.options import Jq, NoHeaders, Output, json_option, parse_when_option
from orderctl.enums import OrderStatus, OutputFormat, ReportPeriod

app = typer.Typer(
    help="Reports: sales per period, top products and customers, orders by status.",
    no_args_is_help=True,
)

SALES_COLUMNS = [
    ("PERIOD", "period"),
    ("CUR", "currency"),
    ("ORDERS", "orders"),
    ("UNITS", "units"),
    ("REVENUE", "revenue"),
    ("AVG ORDER", "average_order_value"),
]
PRODUCT_COLUMNS = [
    ("CUR", "currency"),
    ("#", "rank"),
    ("SKU", "sku"),
    ("NAME", "name"),
    ("ORDERS", "orders"),
    ("UNITS", "units"),
    ("REVENUE", "revenue"),
]
CUSTOMER_COLUMNS = [
    ("CUR", "currency"),
    ("#", "rank"),
    ("EMAIL", "email"),
    ("NAME", "name"),
    ("ORDERS", "orders"),
    ("SPENT", "total_spent"),
]
STATUS_COLUMNS = [
    ("STATUS", "status"),
    ("CUR", "currency"),
    ("ORDERS", "orders"),
    ("VALUE", "value"),
]
#: In a pipe and in CSV the pending ages are columns of the status rows; on a terminal a
#: second table.
STATUS_AGE_COLUMNS = [
    ("<1H", "pending_under_1h"),
    ("<24H", "pending_under_24h"),
    ("<72H", "pending_under_72h"),
    ("OLDER", "pending_older"),
]

Since = Annotated[
    str | None,
    typer.Option("--since", help="Orders created on or after (ISO date or datetime, UTC)."),
]
Until = Annotated[
    str | None,
    typer.Option("--until", help="Orders created before (a date: up to the end of that day)."),
]
SalesJson = Annotated[str | None, json_option("orderctl.report_rows:SalesRow")]
ProductsJson = Annotated[str | None, json_option("orderctl.report_rows:ProductSalesRow")]
CustomersJson = Annotated[str | None, json_option("orderctl.report_rows:CustomerSpendRow")]
StatusJson = Annotated[str | None, json_option("orderctl.report_rows:StatusRow")]
Top = Annotated[
    int,
    typer.Option("--top", min=1, max=1000, help="The N first of each currency (1-1000)."),
]


@app.command("sales")
def sales(
    ctx: typer.Context,
    by: Annotated[
        ReportPeriod, typer.Option("--by", help="Period length (UTC; weeks start on Monday).")
    ] = ReportPeriod.DAY,
    since: Since = None,
    until: Until = None,
    status: Annotated[
        list[OrderStatus] | None,
        typer.Option(
            "--status",
            help="Count these statuses instead of paid, shipped, delivered; repeatable.",
            case_sensitive=False,
        ),
    ] = None,
    chart: Annotated[bool, typer.Option("--chart", help="Draw the chart larger.")] = False,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: SalesJson = None,
    jq: Jq = None,
) -> None:
    """Orders, units, revenue and average order value per period and currency, every period
    of the range (zeros where nothing sold). Default range: the last 30 days (--by week: 12
    weeks, --by month: 12 months), today included. On a terminal: bars and a chart.

    Example: orderctl report sales --by week --since 2026-09-01 -o csv
    """
    from orderctl.cli.charts import charts, on_terminal, render_report, series_of
    from orderctl.errors import UsageError
    from orderctl.report_rows import SalesRow, values
    from orderctl.services import reports

    if chart and output is not OutputFormat.TABLE:
        raise UsageError(f"--chart draws on a terminal; it does not combine with -o {output.value}")
    since_at = parse_when_option(since, end_of_day=False, flag="--since")
    until_at = parse_when_option(until, end_of_day=True, flag="--until")
    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        rows = reports.sales_report(
            uow, actor, by=by, since=since_at, until=until_at, statuses=tuple(status or ())
        )
    drawn = []
    if on_terminal(output):
        docs = [values(row) for row in rows]
        title = f"revenue per {by.value} ({{currency}})"
        drawn = charts(list(series_of(docs, "revenue", _period_label, title)), large=chart)
    render_report(
        rows,
        output,
        SALES_COLUMNS,
        bar="revenue",
        fields=SalesRow,
        empty="no orders in this range",
        extra=drawn,
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )


def _period_label(doc: dict[str, object]) -> str:
    return str(doc["period"])


@app.command("products")
def products(
    ctx: typer.Context,
    top: Top = 10,
    since: Since = None,
    until: Until = None,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: ProductsJson = None,
    jq: Jq = None,
) -> None:
    """The best-selling products of each currency by revenue (paid, shipped and delivered
    orders; all time unless --since/--until), with orders and units.

    Example: orderctl report products --top 5 --since 2026-11-01
    """
    from orderctl.cli.charts import render_report
    from orderctl.report_rows import ProductSalesRow
    from orderctl.services import reports

    since_at = parse_when_option(since, end_of_day=False, flag="--since")
    until_at = parse_when_option(until, end_of_day=True, flag="--until")
    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        rows = reports.products_report(uow, actor, top=top, since=since_at, until=until_at)
    render_report(
        rows,
        output,
        PRODUCT_COLUMNS,
        bar="revenue",
        fields=ProductSalesRow,
        empty="no products sold",
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )


@app.command("customers")
def customers(
    ctx: typer.Context,
    top: Top = 10,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: CustomersJson = None,
    jq: Jq = None,
) -> None:
    """The customers of each currency who spent the most (paid, shipped and delivered
    orders, as `customers show`'s total_spent), with their number of such orders.

    Example: orderctl report customers --top 20 -o json
    """
    from orderctl.cli.charts import render_report
    from orderctl.report_rows import CustomerSpendRow
    from orderctl.services import reports

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        rows = reports.customers_report(uow, actor, top=top)
    render_report(
        rows,
        output,
        CUSTOMER_COLUMNS,
        bar="total_spent",
        fields=CustomerSpendRow,
        empty="no customer has spent anything",
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )


@app.command("status")
def status(
    ctx: typer.Context,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: StatusJson = None,
    jq: Jq = None,
) -> None:
    """Orders and their value per status and currency, and the pending orders by age
    (under 1h, under 24h, under 72h, older; from created_at).

    Example: orderctl report status -o csv
    """
    from orderctl.cli.charts import bar_table, on_terminal, render_report
    from orderctl.report_rows import StatusRow, values
    from orderctl.services import reports

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        rows = reports.status_report(uow, actor)
    terminal = on_terminal(output)
    ages = []
    if terminal:
        pending = [values(r) for r in rows if r.status is OrderStatus.PENDING]
        ages = [
            bar_table(
                _age_rows(pending),
                [("PENDING", "age"), ("CUR", "currency"), ("ORDERS", "orders")],
                "orders",
            )
        ]
    render_report(
        rows,
        output,
        STATUS_COLUMNS if terminal else STATUS_COLUMNS + STATUS_AGE_COLUMNS,
        bar="orders",
        fields=StatusRow,
        empty="no orders",
        extra=ages,
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )


def _age_rows(pending: list[dict[str, object]]) -> list[dict[str, object]]:
    return [
        {"age": header.lower().replace("h", " h"), "currency": doc["currency"], "orders": doc[key]}
        for doc in pending
        for header, key in STATUS_AGE_COLUMNS
    ]
