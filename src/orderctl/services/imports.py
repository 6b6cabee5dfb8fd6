"""Batch import of orders (DESIGN.md §7); the format rules are in docs/import.md.

Flow per batch of `batch_size` orders: a reading process (`OrderBulkWriter.read_ahead`, forked
below the repository line) parses the batch and validates each order with Pydantic
(`OrderCreate`) while this process looks up existing refs, catalog entries and customers of the
previous batch with one query each and writes its customers, orders, items and events in bulk
(`uow.orders.bulk_writer()`, which also decides whether a write runs behind, in a thread).
Memory stays flat: the reader streams, and only a batch or two (plus the catalog entries seen so
far) are held.

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
from datetime import datetime
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from orderctl import clock
from orderctl.enums import Role
from orderctl.errors import (
    Conflict,
    ConnectionLost,
    UsageError,
    ValidationFailed,
    without_internals,
)
from orderctl.order_content import TEXT_FIELDS, same_content
from orderctl.pricing import PricedLine, WantedLine
from orderctl.repositories.orders.records import CatalogEntry, NewOrder, StoredRef
from orderctl.schemas import OrderCreate
from orderctl.services.access import Actor, requires
from orderctl.services.import_checks import FastChecks
from orderctl.services.import_reader import RawOrder
from orderctl.services.import_rules import (
    CheckedBatch,
    Valid,
    lost_connection_message,
    priced,
    wanted_content,
)
from orderctl.services.uow import UnitOfWork

if TYPE_CHECKING:
    from orderctl.repositories.orders._write_behind import OrderBulkWriter

DEFAULT_BATCH_SIZE = 1000
MAX_BATCH_SIZE = 50_000
ON_ERROR = ("abort", "skip")
#: Priced lines kept for the next orders (a line is ~500 bytes with its key).
_KNOWN_MAX = 20_000
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


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
        msg = without_internals(str(errors[0]["msg"]))
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        if is_csv and len(loc) >= 3 and loc[0] == "items":
            # CSV: name the row and its column, not `items.N.column`.
            return f"line {_item_line(order, loc)}: {loc[2]}: {msg}{more}"
        field = ".".join(str(part) for part in loc) or "input"
        return f"{order.where}: {field}: {msg}{more}"
    return parsed


def as_valid(parsed: OrderCreate) -> Valid:
    """The plain tuple of a validated order (what crosses from the reading process)."""
    return (
        parsed.external_ref or "",
        parsed.customer_email,
        parsed.customer_name or None,
        parsed.status.value,
        parsed.currency,
        tuple(getattr(parsed, name) or None for name in TEXT_FIELDS),
        parsed.created_at,
        [(i.sku, i.quantity, i.unit_price) for i in parsed.items],
    )


def _checked_batches(
    orders: Iterable[RawOrder], batch_size: int, *, is_csv: bool, keep_rows: bool
) -> Iterator[CheckedBatch]:
    """The orders checked, batch by batch: everything that needs no database.

    This runs in the reading process (`OrderBulkWriter.read_ahead`), so it must stay free of
    database access.
    """
    checks = FastChecks()
    for batch in _batches(orders, batch_size):
        checked = CheckedBatch()
        first_seen: dict[str, int] = {}
        fast = checks.batch([o.data if o.error is None and o.data else {} for o in batch])
        for order, quick in zip(batch, fast, strict=True):
            checked.lines += order.line_count
            result: Valid | str
            if order.ref and order.ref in first_seen:
                result = (
                    f"{order.where}: external_ref {order.ref!r} already appeared at line "
                    f"{first_seen[order.ref]}; rows of one order must be consecutive"
                )
            else:
                if order.ref:
                    first_seen[order.ref] = order.lines[0]
                if quick is not None:
                    result = quick
                else:  # the schema decides, and words the error
                    parsed = _validate(order, is_csv)
                    result = parsed if isinstance(parsed, str) else as_valid(parsed)
            order.data = None
            if isinstance(result, str):
                checked.rejected.append((order, result))
            else:
                checked.add(order, result, keep_rows=keep_rows)
        yield checked


def _new_order(
    order: RawOrder,
    wanted: Valid,
    catalog: dict[str, CatalogEntry],
    *,
    is_csv: bool,
    now: datetime,
    default_currency: str,
    known: dict[WantedLine, PricedLine],
) -> NewOrder | str:
    """The order priced and ready to be written, or why the catalog refuses it."""
    ref, email, name, status, currency, texts, created, lines = wanted
    lines_priced = priced(order, lines, catalog, is_csv=is_csv, known=known)
    if isinstance(lines_priced, str):
        return lines_priced
    items, total = lines_priced
    created = created or now
    return NewOrder(
        external_ref=ref,
        customer_email=email,
        customer_name=name,
        status=status,
        currency=currency or default_currency,
        total=total,
        texts=texts,
        created_at=created,
        updated_at=created,
        items=items,
    )


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
    keep_rows: bool = True,
    fork: bool = True,
) -> ImportSummary:
    """Import orders from a reader (`import_reader.read_orders`) and return the summary.

    Raises `ValidationFailed` (exit 6) in abort mode at the first invalid order (nothing is
    committed), `Conflict` (exit 6) in abort mode for a ref stored with other content,
    `ConnectionLost` (exit 7, saying what was committed), `UsageError` for a bad
    `on_error`/`batch_size`, `PermissionDenied` below operator. Rejected orders in skip mode
    go to `on_reject(order, reason)` and are counted. `keep_rows=False` says nobody needs a
    rejected order's original rows (no rejects file); `fork=False` reads and validates in
    this process instead of a forked one.
    """
    if on_error not in ON_ERROR:
        raise UsageError(f"--on-error must be abort or skip, not {on_error!r}")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise UsageError(f"--batch-size must be between 1 and {MAX_BATCH_SIZE}")
    abort = on_error == "abort"
    started = time.perf_counter()
    run = uuid.uuid4().hex[:12]
    marker = f"imported from {source[-150:]} (run {run})"
    catalog: dict[str, CatalogEntry] = {}
    #: Lines priced so far (`pricing.price_lines`): the catalog entries only grow meanwhile.
    known: dict[WantedLine, PricedLine] = {}
    counts = {"imported": 0, "il": 0, "skipped": 0, "sl": 0, "rejected": 0, "rl": 0}
    committed = {"orders": 0, "batches": 0}
    lines_done = 0

    def reject(order: RawOrder, reason: str, *, conflict: bool = False) -> None:
        if abort:
            raise (Conflict if conflict else ValidationFailed)(f"{reason} (nothing was imported)")
        counts["rejected"] += 1
        counts["rl"] += order.line_count
        if on_reject is not None:
            on_reject(order, reason)

    def already_stored(order: RawOrder, wanted: Valid, stored: StoredRef | None) -> None:
        """An order whose ref is stored: a repeat within this file, a skip, or a conflict."""
        ref = wanted[0]
        if stored is not None and stored.mine:
            reject(
                order,
                f"{order.where}: external_ref {ref!r} already appeared earlier in this file; "
                "rows of one order must be consecutive",
            )
        elif stored is not None and same_content(
            stored.content, wanted_content(wanted, default_currency)
        ):
            counts["skipped"] += 1
            counts["sl"] += order.line_count
        else:
            reject(
                order,
                f"{order.where}: external_ref {ref!r} is already used by a stored order with "
                "different content",
                conflict=True,
            )

    #: The orders of the batch being written, by ref.
    in_flight: dict[str, tuple[RawOrder, Valid]] = {}

    def batch_written(size: int, lost: list[NewOrder]) -> None:
        """Runs right after a batch is written (on PostgreSQL in the writer's thread)."""
        if not abort and not dry_run:
            uow.commit()
            committed["orders"] += size - len(lost)
            committed["batches"] += 1

    def settle(writer: OrderBulkWriter) -> None:
        """Wait for the batch being written; count again the orders that lost their ref."""
        lost = writer.written()
        stored = writer.existing_orders([new.external_ref for new in lost], marker)
        for new in lost:
            order, wanted = in_flight[new.external_ref]
            counts["imported"] -= 1
            counts["il"] -= order.line_count
            already_stored(order, wanted, stored.get(new.external_ref))
        in_flight.clear()

    try:
        with uow.orders.bulk_writer() as writer:
            checked_batches = writer.read_ahead(
                lambda: _checked_batches(orders, batch_size, is_csv=is_csv, keep_rows=keep_rows),
                fork=fork,
            )
            try:
                for checked in checked_batches:
                    lines_done += checked.lines
                    now = clock.utcnow()
                    for order, reason in checked.rejected:
                        reject(order, reason)
                    valid = checked.valid()
                    unknown = {sku for _, v in valid for sku, _, _ in v[7] if sku not in catalog}
                    if unknown:  # the writer's connection is busy until the previous batch is in
                        settle(writer)
                        catalog.update(writer.catalog(sorted(unknown)))
                    # Priced while the previous batch is still being written (PostgreSQL writes
                    # behind); whether a ref is already stored is known only after that write.
                    if len(known) > _KNOWN_MAX:
                        known.clear()
                    new_order = partial(
                        _new_order,
                        known=known,
                        catalog=catalog,
                        is_csv=is_csv,
                        now=now,
                        default_currency=default_currency,
                    )
                    prepared = [(order, v, new_order(order, v)) for order, v in valid]
                    settle(writer)  # the previous batch must be in before its refs are looked up
                    existing = writer.existing_orders([v[0] for _, v in valid], marker)
                    new_orders: list[NewOrder] = []
                    for order, wanted, new in prepared:
                        ref = wanted[0]
                        if ref in existing:
                            already_stored(order, wanted, existing[ref])
                        elif isinstance(new, str):
                            reject(order, new)
                        else:
                            new_orders.append(new)
                            in_flight[ref] = (order, wanted)
                            counts["imported"] += 1
                            counts["il"] += order.line_count
                    writer.write(
                        new_orders,
                        actor=actor.username,
                        reason=marker,
                        now=now,
                        then=partial(batch_written, len(new_orders)),
                    )
                    if on_progress is not None:
                        on_progress(lines_done)
                settle(writer)
            finally:
                checked_batches.close()  # stops and reaps the reading process at once
        if dry_run:
            uow.rollback()
        else:
            uow.commit()
    except ConnectionLost as lost:
        raise ConnectionLost(lost_connection_message(committed, resumable=not abort)) from lost
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
