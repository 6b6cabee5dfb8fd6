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

from pydantic import BaseModel

from orderctl import clock
from orderctl.enums import TRANSITIONS, EventAction, OrderStatus, Role
from orderctl.errors import RuleViolation, ValidationFailed
from orderctl.locks import job_lock
from orderctl.schemas import Timestamp
from orderctl.services.access import Actor, requires
from orderctl.services.stock import release_reservations
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
    """Cancel pending orders created more than `older_than` ago, giving back exactly what they
    reserved (`release` movements; imported orders reserved nothing, DESIGN.md §13).

    Each order gets a `status_changed` event (pending → cancelled, reason "expired", actor =
    the caller). The change is compare-and-set, so an order paid meanwhile is left alone.
    Raises `PermissionDenied` (4), `ValidationFailed` (6, batch size), `JobAlreadyRunning` (75).
    """
    check_batch_size(batch_size)
    start = time.monotonic()
    cutoff = clock.utcnow() - older_than
    repo = uow.maintenance
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
        totals["units"] += release_reservations(
            uow, cancelled, actor=actor.username, at=now, note=EXPIRED_REASON
        )
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
    repo = uow.maintenance
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
    repo = uow.maintenance
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
