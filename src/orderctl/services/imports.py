"""Batch import of orders (DESIGN.md §7); the format rules are in docs/import.md.

Flow per batch of `batch_size` orders: validate each order with Pydantic (`OrderCreate`), look up
existing refs, catalog entries and customers with one query each, then write customers, orders,
items and events in bulk (`OrderBatchWriter`). Memory stays flat: the reader streams, and only
one batch (plus the catalog entries seen so far) is held.

Transactions:
- `abort` (default): the whole file is one transaction; the first invalid order raises and the
  unit of work rolls everything back. Nothing is held in memory across batches: the written
  batches wait in the database's uncommitted transaction.
- `skip`: one transaction per batch, committed before the next batch is read; a killed import
  leaves whole batches only, and running it again skips them (idempotent by `external_ref`).
- `--dry-run`: like the mode asked for, but the one transaction is rolled back at the end.

A ref seen again later in the file (after other orders) is an error for the later group. Within
a batch the batch's own refs catch it; across batches each `imported` event carries this run's
id in its `reason`, so a ref found in the database that this very run wrote is the same error,
not a silent skip. (A ref whose first group was itself rejected in an earlier batch is not
remembered; remembering every ref would make memory grow with the file.)
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from decimal import Decimal
from itertools import islice

from pydantic import BaseModel, ValidationError

from orderctl import clock
from orderctl.enums import Role
from orderctl.errors import UsageError, ValidationFailed
from orderctl.repositories.order_batches import CatalogEntry, NewOrder, OrderBatchWriter
from orderctl.schemas import MONEY_MAX, Actor, OrderCreate
from orderctl.services.auth import requires
from orderctl.services.import_reader import RawOrder
from orderctl.services.uow import UnitOfWork

DEFAULT_BATCH_SIZE = 1000
MAX_BATCH_SIZE = 50_000
ON_ERROR = ("abort", "skip")
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
_CENT = Decimal("0.01")


class ImportSummary(BaseModel):
    """The summary of one import: counts per order, with the lines (CSV rows) beside them."""

    dry_run: bool
    imported: int
    imported_lines: int
    skipped: int
    skipped_lines: int
    rejected: int
    rejected_lines: int
    seconds: float
    lines_per_second: float


Reject = Callable[[RawOrder, str], None]
Progress = Callable[[int], None]


def _batches(orders: Iterable[RawOrder], size: int) -> Iterator[list[RawOrder]]:
    it = iter(orders)
    while batch := list(islice(it, size)):
        yield batch


def _item_line(order: RawOrder, loc: tuple[int | str, ...]) -> int:
    """The file line of a validation error: the CSV row of the item it is about, if known."""
    index = loc[1] if len(loc) >= 2 and loc[0] == "items" else None
    if isinstance(index, int) and 0 <= index < len(order.lines):
        return order.lines[index]
    return order.lines[0]


def _validate(order: RawOrder, is_csv: bool) -> OrderCreate | str:
    """The validated order, or the reason it is invalid (naming its line and field)."""
    if order.error is not None:
        return order.error if order.error.startswith("line") else f"{order.where}: {order.error}"
    data = order.data
    assert data is not None
    created = data.get("created_at")
    if created is not None and not (isinstance(created, str) and _ISO_DATE.match(created.strip())):
        return f"{order.where}: created_at: {created!r} is not an ISO 8601 timestamp"
    try:
        parsed = OrderCreate.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        loc = tuple(errors[0]["loc"])
        msg = str(errors[0]["msg"]).removeprefix("Value error, ")
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        if is_csv and len(loc) >= 3 and loc[0] == "items":
            # CSV: name the row and its column, not `items.N.column`.
            return f"line {_item_line(order, loc)}: {loc[2]}: {msg}{more}"
        field = ".".join(str(part) for part in loc) or "input"
        return f"{order.where}: {field}: {msg}{more}"
    return parsed


@requires(Role.OPERATOR)
def import_orders(
    uow: UnitOfWork,
    actor: Actor,
    orders: Iterable[RawOrder],
    *,
    is_csv: bool,
    source: str,
    default_currency: str,
    on_error: str = "abort",
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    on_reject: Reject | None = None,
    on_progress: Progress | None = None,
) -> ImportSummary:
    """Import orders from a reader (`import_reader.read_orders`) and return the summary.

    Raises `ValidationFailed` (exit 6) in abort mode at the first invalid order (nothing is
    committed), `UsageError` for a bad `on_error`/`batch_size`, `PermissionDenied` below
    operator. Rejected orders in skip mode go to `on_reject(order, reason)` and are counted.
    """
    if on_error not in ON_ERROR:
        raise UsageError(f"--on-error must be abort or skip, not {on_error!r}")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise UsageError(f"--batch-size must be between 1 and {MAX_BATCH_SIZE}")
    abort = on_error == "abort"
    started = time.perf_counter()
    writer = OrderBatchWriter(uow.session)
    run = uuid.uuid4().hex[:12]
    marker = f"imported from {source[-150:]} (run {run})"
    catalog: dict[str, CatalogEntry] = {}
    counts = {"imported": 0, "il": 0, "skipped": 0, "sl": 0, "rejected": 0, "rl": 0}
    lines_done = 0

    def reject(order: RawOrder, reason: str) -> None:
        if abort:
            raise ValidationFailed(f"{reason} (nothing was imported)")
        counts["rejected"] += 1
        counts["rl"] += order.line_count
        if on_reject is not None:
            on_reject(order, reason)

    # The previous batch is written (and in skip mode committed) by one worker thread while
    # this thread reads and validates the next one: the database drivers release the GIL while
    # the server or SQLite works. Only one of the two threads uses the session at any time:
    # look-ups wait for the pending write first.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orderctl-import")
    pending: Future[None] | None = None

    def write(new_orders: list[NewOrder], now: datetime) -> None:
        writer.add_orders(new_orders, actor=actor.username, reason=marker, now=now)
        if not abort and not dry_run:
            uow.commit()

    try:
        for batch in _batches(orders, batch_size):
            now = clock.utcnow()
            valid: list[tuple[RawOrder, OrderCreate]] = []
            first_seen: dict[str, int] = {}
            for order in batch:
                lines_done += order.line_count
                if order.ref:
                    if order.ref in first_seen:
                        reject(
                            order,
                            f"{order.where}: external_ref {order.ref!r} already appeared at line "
                            f"{first_seen[order.ref]}; rows of one order must be consecutive",
                        )
                        continue
                    first_seen[order.ref] = order.lines[0]
                result = _validate(order, is_csv)
                if isinstance(result, str):
                    reject(order, result)
                else:
                    valid.append((order, result))
            if pending is not None:  # the previous batch must be in before its refs are looked up
                pending.result()
                pending = None
            existing = writer.existing_refs([p.external_ref or "" for _, p in valid], marker)
            unknown_skus = {i.sku for _, p in valid for i in p.items if i.sku not in catalog}
            catalog.update(writer.catalog(sorted(unknown_skus)))
            customers = writer.customer_ids(sorted({p.customer_email for _, p in valid}))
            new_customers: dict[str, str | None] = {}
            ready: list[tuple[RawOrder, OrderCreate, NewOrder]] = []
            for order, p in valid:
                ref = p.external_ref or ""
                if ref in existing:
                    if existing[ref]:
                        reject(
                            order,
                            f"{order.where}: external_ref {ref!r} already appeared earlier in this "
                            "file; rows of one order must be consecutive",
                        )
                    else:
                        counts["skipped"] += 1
                        counts["sl"] += order.line_count
                    continue
                items = []
                total = Decimal(0)
                problem = None
                for n, item in enumerate(p.items):
                    entry = catalog.get(item.sku)
                    line = order.lines[n] if is_csv and n < len(order.lines) else order.lines[0]
                    field = "sku" if is_csv else f"items.{n}.sku"
                    if entry is None:
                        problem = f"line {line}: {field}: unknown SKU {item.sku!r}"
                        break
                    if not entry.active:
                        problem = f"line {line}: {field}: product {item.sku!r} is inactive"
                        break
                    price = entry.unit_price if item.unit_price is None else item.unit_price
                    line_total = (price * item.quantity).quantize(_CENT)
                    total += line_total
                    items.append((entry.id, item.sku, entry.name, item.quantity, price, line_total))
                if problem is None and total > MONEY_MAX:
                    problem = f"{order.where}: total: {total} is more than {MONEY_MAX}"
                if problem is not None:
                    reject(order, problem)
                    continue
                if p.customer_email not in customers and p.customer_email not in new_customers:
                    new_customers[p.customer_email] = p.customer_name or None
                created = p.created_at or now
                new = NewOrder(
                    external_ref=ref,
                    customer_id=0,
                    status=p.status.value,
                    currency=p.currency or default_currency,
                    total=total,
                    notes=p.notes or None,
                    created_at=created,
                    updated_at=created,
                    items=items,
                )
                ready.append((order, p, new))
            customers.update(
                writer.add_customers(new_customers, created_by=actor.username, now=now)
            )
            for order, p, new in ready:
                new.customer_id = customers[p.customer_email]
                counts["imported"] += 1
                counts["il"] += order.line_count
            pending = executor.submit(write, [new for _, _, new in ready], now)
            if on_progress is not None:
                on_progress(lines_done)
        if pending is not None:
            pending.result()
            pending = None
    finally:
        if pending is not None:  # an error is on its way out: let the write finish first
            wait([pending])
        executor.shutdown(wait=True)
    if dry_run:
        uow.rollback()
    else:
        uow.commit()
    seconds = time.perf_counter() - started
    total_lines = counts["il"] + counts["sl"] + counts["rl"]
    return ImportSummary(
        dry_run=dry_run,
        imported=counts["imported"],
        imported_lines=counts["il"],
        skipped=counts["skipped"],
        skipped_lines=counts["sl"],
        rejected=counts["rejected"],
        rejected_lines=counts["rl"],
        seconds=round(seconds, 3),
        lines_per_second=round(total_lines / seconds, 1) if seconds > 0 else 0.0,
    )
