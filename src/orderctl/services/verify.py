"""`maintenance verify [--fix]` (DESIGN.md §8, §13, §18): totals, stock and the ledger,
references.

Orders are checked in keyset batches, each its own short transaction (committed when fixing);
the stock checks run after them. `--fix` is destructive: the CLI runs the checks first, shows
`fix_plan` of what they found and asks before it runs them again with `fix=True`.
"""

from __future__ import annotations

import time
from decimal import Decimal

from pydantic import BaseModel

from orderctl import clock
from orderctl.enums import EventAction, Role, StockReason
from orderctl.locks import job_lock
from orderctl.repositories.maintenance import MaintenanceRepository
from orderctl.repositories.stock import movement
from orderctl.services.access import Actor, requires
from orderctl.services.maintenance import (
    DEFAULT_BATCH_SIZE,
    MAX_BATCH_SIZE,
    _elapsed,
    check_batch_size,
)
from orderctl.services.uow import UnitOfWork

#: What `--fix` does about each kind of problem it can repair, for the confirmation (§18).
FIX_ACTIONS = {
    "total_mismatch": "recompute {n} order total(s)",
    "line_total_mismatch": "recompute {n} line total(s)",
    "ledger_mismatch": "append {n} correction movement(s) so the ledger agrees with the "
    "counted stock",
    "cancelled_reservation": "clear {n} reservation(s) still held by cancelled orders "
    "(no stock change)",
}
FIX_NOTE = "maintenance verify --fix"


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


def fix_plan(summary: VerifySummary) -> list[str]:
    """What `verify --fix` would do about the problems of a check run, with counts (empty:
    nothing it can repair)."""
    counts: dict[str, int] = {}
    for problem in summary.problems:
        if problem.problem in FIX_ACTIONS and not problem.fixed:
            counts[problem.problem] = counts.get(problem.problem, 0) + 1
    return [text.format(n=counts[kind]) for kind, text in FIX_ACTIONS.items() if kind in counts]


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
    one line; every tracked product: stock = Σ ledger, stock never negative; no line of a
    cancelled order still holding a reservation; no items or events without their order.

    With `fix` (and not `dry_run`), wrong line totals and order totals are recomputed from
    quantity × unit price and each repaired order gets a `total_fixed` event naming the old
    and new total; a ledger that disagrees with the counted stock gets a `correction`
    movement (history is never edited); a cancelled order's leftover reservation is set to 0
    without touching stock (a `reservation_cleared` event). Other problems are reported only.
    Raises `PermissionDenied` (4), `ValidationFailed` (6, batch size), `JobAlreadyRunning`
    (75, with `fix`).
    """
    check_batch_size(batch_size)
    start = time.monotonic()
    repo = uow.maintenance
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
        problems.extend(_check_stock(uow, actor, writing=writing))
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
        for problem, what, orphans in (
            ("orphan_item", "order item", repo.orphan_items(MAX_BATCH_SIZE)),
            ("orphan_event", "order event", repo.orphan_events(MAX_BATCH_SIZE)),
        ):
            problems.extend(
                VerifyProblem(
                    problem=problem,
                    order_id=order_id,
                    detail=f"{what} {row_id} points to missing order {order_id}",
                )
                for row_id, order_id in orphans
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


def _check_stock(uow: UnitOfWork, actor: Actor, *, writing: bool) -> list[VerifyProblem]:
    """The ledger (stock = Σ movements) and cancelled orders' reservations; fixed and
    committed when `writing`."""
    problems: list[VerifyProblem] = []
    now = clock.utcnow()
    for product_id, sku, stock, total in uow.stock.ledger_mismatches():
        fixed = False
        if writing:
            # Again under the row lock: an order may have reserved since the check.
            counted, ledger = uow.stock.ledger_sum(product_id)
            if counted is not None and counted != ledger:
                note = f"{FIX_NOTE}: ledger said {ledger}, counted stock {counted}"
                uow.stock.add_movements(
                    [
                        movement(
                            product_id,
                            counted - ledger,
                            StockReason.CORRECTION,
                            actor.username,
                            note=note,
                            at=now,
                        )
                    ]
                )
                fixed = True
        problems.append(
            VerifyProblem(
                problem="ledger_mismatch",
                sku=sku,
                expected=str(stock),
                found=str(total),
                fixed=fixed,
                detail=f"product {sku!r} has stock {stock}, its ledger sums to {total}",
            )
        )
    events: list[dict[str, object]] = []
    for item_id, order_id, sku, reserved in uow.stock.cancelled_reservations(MAX_BATCH_SIZE):
        fixed = writing and uow.stock.clear_cancelled_reservation(item_id)
        if fixed:
            events.append(
                {
                    "order_id": order_id,
                    "at": now,
                    "actor": actor.username,
                    "action": EventAction.RESERVATION_CLEARED.value,
                    "from_status": None,
                    "to_status": None,
                    "reason": f"{FIX_NOTE}: line {sku} held {reserved}, now 0 (stock unchanged)",
                }
            )
        problems.append(
            VerifyProblem(
                problem="cancelled_reservation",
                order_id=order_id,
                sku=sku,
                expected="0",
                found=str(reserved),
                fixed=fixed,
                detail=f"cancelled order {order_id} line {sku} still reserves {reserved}",
            )
        )
    if writing:
        uow.maintenance.add_events(events)
        uow.commit()
    else:
        uow.rollback()
    return problems
