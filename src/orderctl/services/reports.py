"""Reports (DESIGN.md §15): sales per period, products, customers and orders by status.

Each report is one grouped query of `uow.reports`; this module only fills the gaps of the
sales series (a period without orders is a row of zeros, per currency present in the range)
and shapes the rows (plain `report_rows` dataclasses: no Pydantic on the report path).
Amounts of different currencies are never added together.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from orderctl import clock
from orderctl.enums import SPENDING_STATUSES, OrderStatus, ReportPeriod, Role
from orderctl.errors import UsageError
from orderctl.report_rows import CustomerSpendRow, ProductSalesRow, SalesRow, StatusRow
from orderctl.repositories.reports import TimeRange
from orderctl.services.access import Actor, requires
from orderctl.services.uow import UnitOfWork

#: `--top` bounds (both faces): a larger report is a listing, not a ranking.
TOP_MAX = 1000
TOP_DEFAULT = 10
#: The longest sales series: about 27 years of days (a typo such as --since 0202-01-01 is
#: refused instead of printing 666,000 rows of zeros).
PERIODS_MAX = 10_000
#: Periods shown when no --since is given, the current (partial) one included.
DEFAULT_PERIODS = {ReportPeriod.DAY: 30, ReportPeriod.WEEK: 12, ReportPeriod.MONTH: 12}
#: Ages of pending orders in `report status`: under 1h, under 24h, under 72h, older.
PENDING_AGES = (timedelta(hours=1), timedelta(hours=24), timedelta(hours=72))

_CENT = Decimal("0.01")


def period_start(day: date, by: ReportPeriod) -> date:
    """The first day of the period holding `day`: itself, its week's Monday, its month's 1st."""
    if by is ReportPeriod.WEEK:
        return day - timedelta(days=day.weekday())
    if by is ReportPeriod.MONTH:
        return day.replace(day=1)
    return day


def next_period(start: date, by: ReportPeriod) -> date:
    """The first day of the period after the one starting on `start`."""
    if by is ReportPeriod.WEEK:
        return start + timedelta(days=7)
    if by is ReportPeriod.MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def sales_range(
    by: ReportPeriod, since: datetime | None, until: datetime | None
) -> tuple[datetime, datetime]:
    """The range of a sales report: as given; an open end is now (the end of today, UTC), an
    open start the last `DEFAULT_PERIODS[by]` periods up to `until`. Raises `UsageError`
    (exit 2) for an empty or inverted range."""
    if until is None:
        until = _midnight(clock.utcnow().date() + timedelta(days=1))
    if since is None:
        start = period_start((until - timedelta(microseconds=1)).date(), by)
        for _ in range(DEFAULT_PERIODS[by] - 1):
            start = period_start(start - timedelta(days=1), by)
        since = _midnight(start)
    if since >= until:
        raise UsageError("--since must be before --until (the range is empty)")
    return since, until


def _periods(by: ReportPeriod, since: datetime, until: datetime) -> list[date]:
    last = (until - timedelta(microseconds=1)).date()
    day = period_start(since.date(), by)
    found: list[date] = []
    while day <= last:
        if len(found) == PERIODS_MAX:
            raise UsageError(f"the range holds more than {PERIODS_MAX:,} periods; shorten it")
        found.append(day)
        day = next_period(day, by)
    return found


def _average(revenue: Decimal, orders: int) -> Decimal:
    if not orders:
        return Decimal("0.00")
    return (revenue / orders).quantize(_CENT, rounding=ROUND_HALF_UP)


@requires(Role.VIEWER)
def sales_report(
    uow: UnitOfWork,
    actor: Actor,
    *,
    by: ReportPeriod = ReportPeriod.DAY,
    since: datetime | None = None,
    until: datetime | None = None,
    statuses: tuple[OrderStatus, ...] = (),
) -> list[SalesRow]:
    """Orders, units, revenue and average order value per UTC period and currency, every
    period of the range present (zeros where nothing sold), oldest first. `statuses`
    default: paid, shipped, delivered. Raises `UsageError` (exit 2) for an empty range or one
    of more than `PERIODS_MAX` periods."""
    since, until = sales_range(by, since, until)
    periods = _periods(by, since, until)
    counted = statuses or SPENDING_STATUSES
    found = {
        (row.period, row.currency): row
        for row in uow.reports.sales(by, TimeRange(since, until), counted)
    }
    currencies = sorted({currency for _, currency in found})
    rows = []
    for period in periods:
        for currency in currencies:
            row = found.get((period, currency))
            orders, units, revenue = (
                (row.orders, row.units, row.revenue) if row else (0, 0, Decimal("0.00"))
            )
            rows.append(
                SalesRow(
                    period=period,
                    currency=currency,
                    orders=orders,
                    units=units,
                    revenue=revenue,
                    average_order_value=_average(revenue, orders),
                )
            )
    return rows


def _check_top(top: int) -> None:
    if not 1 <= top <= TOP_MAX:
        raise UsageError(f"--top must be between 1 and {TOP_MAX}, got {top}")


@requires(Role.VIEWER)
def products_report(
    uow: UnitOfWork,
    actor: Actor,
    *,
    top: int = TOP_DEFAULT,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ProductSalesRow]:
    """The `top` products of each currency by revenue (Σ line totals of paid, shipped and
    delivered orders created in the range; all time by default), with orders and units.
    Raises `UsageError` (exit 2) for a `top` outside 1..TOP_MAX or an empty range."""
    _check_top(top)
    if since is not None and until is not None and since >= until:
        raise UsageError("--since must be before --until (the range is empty)")
    rows = uow.reports.products(TimeRange(since, until), SPENDING_STATUSES, top)
    return [
        ProductSalesRow(
            currency=r.currency,
            rank=r.rank,
            sku=r.key,
            name=r.name or "",
            orders=r.orders,
            units=r.units,
            revenue=r.revenue,
        )
        for r in rows
    ]


@requires(Role.VIEWER)
def customers_report(
    uow: UnitOfWork, actor: Actor, *, top: int = TOP_DEFAULT
) -> list[CustomerSpendRow]:
    """The `top` customers of each currency by spend: their paid, shipped and delivered
    orders (as `customers show`'s total_spent). Raises `UsageError` (exit 2) for a `top`
    outside 1..TOP_MAX."""
    _check_top(top)
    return [
        CustomerSpendRow(
            currency=r.currency,
            rank=r.rank,
            email=r.key,
            name=r.name,
            orders=r.orders,
            total_spent=r.revenue,
        )
        for r in uow.reports.customers(SPENDING_STATUSES, top)
    ]


@requires(Role.VIEWER)
def status_report(uow: UnitOfWork, actor: Actor) -> list[StatusRow]:
    """Orders and their value per status and currency (every status, zeros included, for
    each currency that has orders), and the pending ones by age."""
    now = clock.utcnow()
    cutoffs = (now - PENDING_AGES[0], now - PENDING_AGES[1], now - PENDING_AGES[2])
    found = {(row.status, row.currency): row for row in uow.reports.status(cutoffs)}
    currencies = sorted({currency for _, currency in found})
    rows = []
    for currency in currencies:
        for status in OrderStatus:
            row = found.get((status.value, currency))
            pending = status is OrderStatus.PENDING
            ages = row.ages if row else (0, 0, 0, 0)
            rows.append(
                StatusRow(
                    status=status,
                    currency=currency,
                    orders=row.orders if row else 0,
                    value=row.value if row else Decimal("0.00"),
                    pending_under_1h=ages[0] if pending else None,
                    pending_under_24h=ages[1] if pending else None,
                    pending_under_72h=ages[2] if pending else None,
                    pending_older=ages[3] if pending else None,
                )
            )
    return rows
