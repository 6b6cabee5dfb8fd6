"""`/api/reports`: the reports of `orderctl report` (DESIGN.md §15), the same rows as its
`-o json`, with the same parameters and rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from orderctl import report_schemas as schemas
from orderctl.api.deps import ReadUow, role_of
from orderctl.api.jsonbody import JsonRoute
from orderctl.api.params import time_range, when_query
from orderctl.enums import OrderStatus, ReportPeriod
from orderctl.report_rows import CustomerSpendRow, ProductSalesRow, SalesRow, StatusRow
from orderctl.services import reports
from orderctl.services.access import Actor

router = APIRouter(route_class=JsonRoute, prefix="/api/reports", tags=["reports"])

Since = Annotated[str | None, when_query("Orders created on or after (ISO date or datetime, UTC).")]
Until = Annotated[
    str | None, when_query("Orders created before (a date: up to the end of that day; UTC).")
]
Top = Annotated[int, Query(ge=1, le=reports.TOP_MAX, description="The N first of each currency.")]


@router.get("/sales", response_model=schemas.SalesRows)
def sales(
    uow: ReadUow,
    actor: Annotated[Actor, role_of(reports.sales_report)],
    by: Annotated[ReportPeriod, Query(description="Period (UTC; weeks start on Monday).")] = (
        ReportPeriod.DAY
    ),
    since: Since = None,
    until: Until = None,
    status: Annotated[
        list[OrderStatus] | None,
        Query(description="Count these statuses instead of paid, shipped and delivered."),
    ] = None,
) -> list[SalesRow]:
    """Orders, units, revenue and average order value per period and currency, oldest
    first, every period of the range present (zeros where nothing sold). Default range: the
    last 30 days (`by=week`: 12 weeks, `by=month`: 12 months), today included."""
    return reports.sales_report(
        uow,
        actor,
        by=by,
        **time_range(since, until),
        statuses=tuple(status or ()),
    )


@router.get("/products", response_model=schemas.ProductSalesRows)
def products(
    uow: ReadUow,
    actor: Annotated[Actor, role_of(reports.products_report)],
    top: Top = reports.TOP_DEFAULT,
    since: Since = None,
    until: Until = None,
) -> list[ProductSalesRow]:
    """The best-selling products of each currency by revenue (paid, shipped and delivered
    orders; all time unless `since`/`until`)."""
    return reports.products_report(
        uow,
        actor,
        top=top,
        **time_range(since, until),
    )


@router.get("/customers", response_model=schemas.CustomerSpendRows)
def customers(
    uow: ReadUow,
    actor: Annotated[Actor, role_of(reports.customers_report)],
    top: Top = reports.TOP_DEFAULT,
) -> list[CustomerSpendRow]:
    """The customers of each currency who spent the most (paid, shipped, delivered)."""
    return reports.customers_report(uow, actor, top=top)


@router.get("/status", response_model=schemas.StatusRows)
def status(
    uow: ReadUow, actor: Annotated[Actor, role_of(reports.status_report)]
) -> list[StatusRow]:
    """Orders and their value per status and currency; pending orders by age."""
    return reports.status_report(uow, actor)
