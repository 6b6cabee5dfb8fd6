"""`orders export` and `GET /api/orders/export` (DESIGN.md §14): matching orders in the import
format of §7, streamed.

The orders come from the listing's stream (`uow.orders.stream`: keyset batches, flat memory,
the same filters) in the import's shape: the database writes each order's JSONL line or CSV
rows, with exactly the columns and keys `import orders` reads (`import_reader`), so an export
imports back as it is, and Python only passes the text through (docs/performance.md, *Export
and db copy*). Oldest first, so a re-import gives ids in the original order.
"""

from __future__ import annotations

from collections.abc import Iterator

from orderctl.enums import OrderSort, Role
from orderctl.order_filters import OrderFilters
from orderctl.services import order_listing
from orderctl.services.access import Actor, requires
from orderctl.services.import_reader import ITEM_COLUMNS, ORDER_COLUMNS
from orderctl.services.uow import UnitOfWork

#: `--format`: the formats `import orders` reads.
FORMATS = ("csv", "jsonl")
#: The CSV header: the import's columns, the order's first, then a line's (the database
#: writes the rows in this order: `repositories/orders/_shapes.py`).
CSV_COLUMNS = ("external_ref", *ORDER_COLUMNS, *ITEM_COLUMNS)


def _with_header(texts: Iterator[str]) -> Iterator[str]:
    yield ",".join(CSV_COLUMNS) + "\r\n"
    yield from texts


@requires(Role.VIEWER)
def export_orders(
    uow: UnitOfWork,
    actor: Actor,
    filters: OrderFilters | None = None,
    *,
    fmt: str = "jsonl",
    fork: bool = True,
) -> Iterator[str]:
    """The matching orders as import-format text, oldest first: for `jsonl` one line per
    order, for `csv` the header and then each order's rows (one per line of the order,
    the order's columns repeated on each). Every piece ends with its newline.

    The values are the stored ones, unchanged (a CSV cell starting with `=` stays so:
    docs/export.md); an order without an external ref gets `orderctl-<id>`. `fork=False`
    keeps SQLite's reading in one process (the API: no fork in a threaded server). The role
    is checked when called; the orders are read when iterated.
    Raises `ValidationFailed` for a format other than csv or jsonl.
    """
    if fmt not in FORMATS:
        from orderctl.errors import ValidationFailed

        raise ValidationFailed(f"format: must be csv or jsonl (got {fmt!r})")
    texts = uow.orders.stream(
        filters or OrderFilters(),
        sort=OrderSort.CREATED.value,
        batch_size=order_listing.STREAM_BATCH,  # read when called: the listing's batch
        fork=fork,
        shape=f"import-{fmt}",
    )
    return _with_header(texts) if fmt == "csv" else texts
