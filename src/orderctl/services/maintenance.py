"""Maintenance jobs for cron (DESIGN.md §8): expire-pending, purge-tokens, purge-orders, verify.

Every job needs the admin role, takes its lock (`orderctl.locks.job_lock`; a second run raises
`JobAlreadyRunning`, exit 75) unless it only reads, and works in bounded batches: each batch is
its own short transaction, committed before the next is selected, so an interrupted run leaves
only whole batches behind and simply running it again finishes the job. `dry_run` only counts,
in a read transaction, and takes no lock.

The summaries below are the JSON documents of `-o json`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel

from orderctl import clock
from orderctl.enums import TRANSITIONS, EventAction, OrderStatus, Role
from orderctl.errors import RuleViolation, ValidationFailed
from orderctl.locks import job_lock
from orderctl.repositories.maintenance import MaintenanceRepository
from orderctl.schemas import Timestamp
from orderctl.services.access import Actor, requires
from orderctl.services.uow import UnitOfWork

DEFAULT_BATCH_SIZE = 1000
MAX_BATCH_SIZE = 10_000
#: purge-tokens keeps expired/revoked tokens this long, so `auth token list` can still show
#: recently revoked ones and a failed cron login is explainable.
DEFAULT_TOKEN_GRACE = timedelta(days=30)
#: Statuses purge-orders may delete: the final ones (no transition leaves them).
FINAL_STATUSES: tuple[OrderStatus, ...] = tuple(s for s, nxt in TRANSITIONS.items() if not nxt)
EXPIRED_REASON = "expired"


class ExpireSummary(BaseModel):
    job: str = "expire-pending"
    dry_run: bool
    cutoff: Timestamp
    orders: int
    units_restocked: int
    batches: int
    seconds: float


class PurgeTokensSummary(BaseModel):
    job: str = "purge-tokens"
    dry_run: bool
    cutoff: Timestamp
    tokens: int
    batches: int
    seconds: float


class PurgeOrdersSummary(BaseModel):
    job: str = "purge-orders"
    dry_run: bool
    status: OrderStatus
    cutoff: Timestamp
    orders: int
    items: int
    events: int
    batches: int
    seconds: float


class VerifyProblem(BaseModel):
    """One inconsistency found by verify."""

    problem: str
    order_id: int | None = None
    sku: str | None = None
    expected: str | None = None
    found: str | None = None
    fixed: bool = False
    detail: str


class VerifySummary(BaseModel):
    job: str = "verify"
    dry_run: bool
    fix: bool
    orders_checked: int
    found: int
    fixed: int
    remaining: int
    seconds: float
    problems: list[VerifyProblem]


def check_batch_size(batch_size: int) -> int:
    """Raise `ValidationFailed` (exit 6) outside 1..MAX_BATCH_SIZE."""
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValidationFailed(f"batch size: must be between 1 and {MAX_BATCH_SIZE}")
    return batch_size


def _elapsed(start: float) -> float:
    return round(time.monotonic() - start, 3)


def _in_batches(
    uow: UnitOfWork,
    job: str,
    next_ids: Callable[[], list[int]],
    handle: Callable[[list[int]], None],
) -> int:
    """Run `job` under its lock: take the next batch's ids, handle them and commit, until no
    ids are left. Each batch is its own short transaction. Returns the number of batches."""
    batches = 0
    with job_lock(uow.db, job):
        while ids := next_ids():
            handle(ids)
            uow.commit()
            batches += 1
        uow.rollback()
    return batches


@requires(Role.ADMIN)
def expire_pending(
    uow: UnitOfWork,
    actor: Actor,
    *,
    older_than: timedelta,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
) -> ExpireSummary:
    """Cancel pending orders created more than `older_than` ago, restocking tracked products.

    Each order gets a `status_changed` event (pending → cancelled, reason "expired", actor =
    the caller). The change is compare-and-set, so an order paid meanwhile is left alone.
    Raises `PermissionDenied` (4), `ValidationFailed` (6, batch size), `JobAlreadyRunning` (75).
    """
    check_batch_size(batch_size)
    start = time.monotonic()
    cutoff = clock.utcnow() - older_than
    repo = MaintenanceRepository(uow.session)
    if dry_run:
        orders, units = repo.count_pending_before(cutoff)
        batches = -(-orders // batch_size)
        return ExpireSummary(
            dry_run=True,
            cutoff=cutoff,
            orders=orders,
            units_restocked=units,
            batches=batches,
            seconds=_elapsed(start),
        )
    totals = {"orders": 0, "units": 0}

    def expire(ids: list[int]) -> None:
        now = clock.utcnow()
        cancelled = repo.cancel_pending(ids, now)
        totals["units"] += _restock(uow, repo, cancelled)
        repo.add_events(
            [
                {
                    "order_id": order_id,
                    "at": now,
                    "actor": actor.username,
                    "action": EventAction.STATUS_CHANGED.value,
                    "from_status": OrderStatus.PENDING.value,
                    "to_status": OrderStatus.CANCELLED.value,
                    "reason": EXPIRED_REASON,
                }
                for order_id in cancelled
            ]
        )
        totals["orders"] += len(cancelled)

    batches = _in_batches(
        uow, "expire-pending", lambda: repo.pending_ids_before(cutoff, batch_size), expire
    )
    return ExpireSummary(
        dry_run=False,
        cutoff=cutoff,
        orders=totals["orders"],
        units_restocked=totals["units"],
        batches=batches,
        seconds=_elapsed(start),
    )


def _restock(uow: UnitOfWork, repo: MaintenanceRepository, order_ids: list[int]) -> int:
    """Give the orders' quantities back, one UPDATE per product in ascending id (no deadlock
    with order creation, which reserves in the same order). Returns the tracked units."""
    per_product = repo.quantities_by_product(order_ids)
    # Untracked products would be no-op UPDATEs: skip the round trips (half the cost on a busy
    # server, see docs/performance.md).
    tracked = repo.tracked_product_ids([pid for pid, _ in per_product])
    units = 0
    for product_id, quantity in per_product:
        if product_id in tracked:
            uow.products.release_stock(product_id, quantity)
            units += quantity
    return units


@requires(Role.ADMIN)
def purge_tokens(
    uow: UnitOfWork,
    actor: Actor,
    *,
    older_than: timedelta = DEFAULT_TOKEN_GRACE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
) -> PurgeTokensSummary:
    """Delete API tokens that expired, or were revoked, more than `older_than` ago.

    Raises `PermissionDenied` (4), `ValidationFailed` (6, batch size), `JobAlreadyRunning` (75).
    """
    check_batch_size(batch_size)
    start = time.monotonic()
    cutoff = clock.utcnow() - older_than
    repo = MaintenanceRepository(uow.session)
    if dry_run:
        count = repo.count_dead_tokens(cutoff)
        return PurgeTokensSummary(
            dry_run=True,
            cutoff=cutoff,
            tokens=count,
            batches=-(-count // batch_size),
            seconds=_elapsed(start),
        )
    deleted = [0]

    def purge(ids: list[int]) -> None:
        deleted[0] += repo.delete_tokens(ids, cutoff)

    batches = _in_batches(
        uow, "purge-tokens", lambda: repo.dead_token_ids(cutoff, batch_size), purge
    )
    return PurgeTokensSummary(
        dry_run=False, cutoff=cutoff, tokens=deleted[0], batches=batches, seconds=_elapsed(start)
    )


def check_final_status(status: OrderStatus) -> OrderStatus:
    """Raise `RuleViolation` (exit 6) unless `status` is final (cancelled, refunded)."""
    if status not in FINAL_STATUSES:
        allowed = ", ".join(s.value for s in FINAL_STATUSES)
        raise RuleViolation(
            f"purge-orders only deletes orders in a final status ({allowed}); "
            f"{status.value!r} orders can still change"
        )
    return status


@requires(Role.ADMIN)
def purge_orders(
    uow: UnitOfWork,
    actor: Actor,
    *,
    status: OrderStatus,
    older_than: timedelta,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    cutoff: datetime | None = None,
) -> PurgeOrdersSummary:
    """Delete orders in a final `status` whose last change (`updated_at`) is older than
    `older_than`, with their items and events. Stock is not touched.

    `cutoff` (default: now - `older_than`) pins the cut, so a run confirmed from a dry run's
    plan deletes what the plan counted, however long the question waited for its answer.
    Raises `PermissionDenied` (4), `RuleViolation` (6, a status that is not final, or the
    batch size), `JobAlreadyRunning` (75).
    """
    check_final_status(status)
    check_batch_size(batch_size)
    start = time.monotonic()
    cutoff = clock.utcnow() - older_than if cutoff is None else cutoff
    repo = MaintenanceRepository(uow.session)
    if dry_run:
        orders, items, events = repo.count_orders_before(status.value, cutoff)
        return PurgeOrdersSummary(
            dry_run=True,
            status=status,
            cutoff=cutoff,
            orders=orders,
            items=items,
            events=events,
            batches=-(-orders // batch_size),
            seconds=_elapsed(start),
        )
    totals = [0, 0, 0]  # orders, items, events

    def purge(ids: list[int]) -> None:
        for n, count in enumerate(repo.delete_orders(ids, status.value)):
            totals[n] += count

    batches = _in_batches(
        uow,
        "purge-orders",
        lambda: repo.final_order_ids_before(status.value, cutoff, batch_size),
        purge,
    )
    return PurgeOrdersSummary(
        dry_run=False,
        status=status,
        cutoff=cutoff,
        orders=totals[0],
        items=totals[1],
        events=totals[2],
        batches=batches,
        seconds=_elapsed(start),
    )


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


@requires(Role.ADMIN)
def verify(
    uow: UnitOfWork,
    actor: Actor,
    *,
    fix: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
) -> VerifySummary:
    """Check every order: total = Σ line totals, line total = quantity × unit price, at least
    one line; no product with negative stock; no items or events without their order.

    With `fix` (and not `dry_run`), wrong line totals and order totals are recomputed from
    quantity × unit price and each repaired order gets a `total_fixed` event naming the old
    and new total. Other problems are reported only. Raises `PermissionDenied` (4),
    `ValidationFailed` (6, batch size), `JobAlreadyRunning` (75, with `fix`).
    """
    check_batch_size(batch_size)
    start = time.monotonic()
    repo = MaintenanceRepository(uow.session)
    writing = fix and not dry_run
    problems: list[VerifyProblem] = []
    checked = 0

    def run() -> None:
        nonlocal checked
        after = 0
        while True:
            batch = repo.order_batch(after, batch_size)
            if not batch:
                uow.rollback()
                break
            after = batch[-1][0]
            checked += len(batch)
            problems.extend(_check_orders(repo, batch, actor, writing=writing))
            if writing:
                uow.commit()
            else:
                uow.rollback()  # keep each read transaction short too
        for sku, stock in repo.negative_stock():
            problems.append(
                VerifyProblem(
                    problem="negative_stock",
                    sku=sku,
                    expected=">= 0",
                    found=str(stock),
                    detail=f"product {sku!r} has stock {stock}",
                )
            )
        for item_id, order_id in repo.orphan_items(MAX_BATCH_SIZE):
            problems.append(
                VerifyProblem(
                    problem="orphan_item",
                    order_id=order_id,
                    detail=f"order item {item_id} points to missing order {order_id}",
                )
            )
        for event_id, order_id in repo.orphan_events(MAX_BATCH_SIZE):
            problems.append(
                VerifyProblem(
                    problem="orphan_event",
                    order_id=order_id,
                    detail=f"order event {event_id} points to missing order {order_id}",
                )
            )
        uow.rollback()

    if writing:
        with job_lock(uow.db, "verify"):
            run()
    else:
        run()
    fixed = sum(1 for p in problems if p.fixed)
    return VerifySummary(
        dry_run=dry_run,
        fix=fix,
        orders_checked=checked,
        found=len(problems),
        fixed=fixed,
        remaining=len(problems) - fixed,
        seconds=_elapsed(start),
        problems=problems,
    )


def _check_orders(
    repo: MaintenanceRepository,
    batch: list[tuple[int, Decimal]],
    actor: Actor,
    *,
    writing: bool,
) -> list[VerifyProblem]:
    # Arithmetic in Python with Decimal: SQLite keeps NUMERIC as binary floats, so comparing
    # quantity * unit_price in SQL would report rounding noise as problems.
    lines: dict[int, list[tuple[int, str, int, Decimal, Decimal]]] = {}
    for order_id, item_id, sku, quantity, unit_price, line_total in repo.lines_of(
        [order_id for order_id, _ in batch]
    ):
        lines.setdefault(order_id, []).append((item_id, sku, quantity, unit_price, line_total))
    problems: list[VerifyProblem] = []
    events: list[dict[str, object]] = []
    now = clock.utcnow()
    for order_id, total in batch:
        order_lines = lines.get(order_id, [])
        if not order_lines:
            problems.append(
                VerifyProblem(
                    problem="order_without_items",
                    order_id=order_id,
                    detail=f"order {order_id} has no items",
                )
            )
            continue
        notes: list[str] = []
        line_problems: list[VerifyProblem] = []
        for item_id, sku, quantity, unit_price, line_total in order_lines:
            expected_line = (quantity * unit_price).quantize(Decimal("0.01"))
            if expected_line != line_total:
                if writing:
                    repo.fix_line_total(item_id, expected_line)
                    notes.append(f"line {sku} {_money(line_total)} -> {_money(expected_line)}")
                line_problems.append(
                    VerifyProblem(
                        problem="line_total_mismatch",
                        order_id=order_id,
                        sku=sku,
                        expected=_money(expected_line),
                        found=_money(line_total),
                        fixed=writing,
                        detail=f"order {order_id} line {sku}: {quantity} x "
                        f"{_money(unit_price)} = {_money(expected_line)}, "
                        f"stored {_money(line_total)}",
                    )
                )
        stored_sum = sum((lt for *_, lt in order_lines), Decimal("0"))
        expected_total = sum(
            ((q * p).quantize(Decimal("0.01")) for _, _, q, p, _ in order_lines), Decimal("0")
        )
        total_problem: VerifyProblem | None = None
        if expected_total != total:
            fixed = writing and repo.fix_order_total(order_id, total, expected_total)
            total_problem = VerifyProblem(
                problem="total_mismatch",
                order_id=order_id,
                expected=_money(expected_total),
                found=_money(total),
                fixed=fixed,
                detail=f"order {order_id}: total {_money(total)}, "
                f"sum of lines {_money(stored_sum)}"
                + (
                    f" (recomputed {_money(expected_total)})"
                    if stored_sum != expected_total
                    else ""
                ),
            )
            if fixed:
                notes.insert(0, f"total {_money(total)} -> {_money(expected_total)}")
        problems.extend(line_problems)
        if total_problem is not None:
            problems.append(total_problem)
        if writing and notes:
            events.append(
                {
                    "order_id": order_id,
                    "at": now,
                    "actor": actor.username,
                    "action": EventAction.TOTAL_FIXED.value,
                    "from_status": None,
                    "to_status": None,
                    "reason": "maintenance verify --fix: " + "; ".join(notes),
                }
            )
    if events:
        repo.add_events(events)
    return problems
