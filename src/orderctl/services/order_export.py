"""`orders export` and `GET /api/orders/export` (DESIGN.md §14): matching orders in the import
format of §7, streamed.

The orders come from the listing's stream (`uow.orders.stream`: keyset batches of documents
written by the database, flat memory); each document becomes one JSONL line or its CSV rows,
with exactly the columns and keys `import orders` reads (`import_reader`), so an export
imports back as it is. Oldest first, so a re-import gives ids in the original order.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from orderctl.enums import OrderSort, Role
from orderctl.order_filters import OrderFilters
from orderctl.services.access import Actor, requires
from orderctl.services.import_reader import ITEM_COLUMNS, ORDER_COLUMNS
from orderctl.services.order_listing import iter_order_json
from orderctl.services.uow import UnitOfWork

#: `--format`: the formats `import orders` reads.
FORMATS = ("csv", "jsonl")
#: The CSV header: the import's columns, the order's first, then a line's.
CSV_COLUMNS = ("external_ref", *ORDER_COLUMNS, *ITEM_COLUMNS)
#: The ref of an order that has none, so that importing the export twice is idempotent.
GENERATED_REF = "orderctl-{id}"


def export_ref(doc: dict[str, Any]) -> str:
    """The order's external_ref, or `orderctl-<id>` when it has none."""
    ref = doc.get("external_ref")
    return str(ref) if ref else GENERATED_REF.format(id=doc["id"])


def import_record(doc: dict[str, Any]) -> dict[str, Any]:
    """An order's §6 document as one JSONL import line (§7): the order's fields, the
    customer's email and name, and each line's sku, quantity and unit price. Fields without a
    value are left out (the import reads a missing field as "not given")."""
    customer = doc["customer"]
    record: dict[str, Any] = {
        "external_ref": export_ref(doc),
        "customer_email": customer["email"],
        "customer_name": customer.get("name"),
    }
    for column in ORDER_COLUMNS[2:]:
        record[column] = doc.get(column)
    record["items"] = [
        {"sku": item["sku"], "quantity": item["quantity"], "unit_price": item["unit_price"]}
        for item in doc["items"]
    ]
    return {key: value for key, value in record.items() if value is not None}


def _jsonl(texts: Iterator[str]) -> Iterator[str]:
    for text in texts:
        yield json.dumps(import_record(json.loads(text)), ensure_ascii=False) + "\n"


def _csv(texts: Iterator[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    for text in texts:
        buffer.seek(0)
        buffer.truncate()
        record = import_record(json.loads(text))
        order = [record.get(column, "") for column in CSV_COLUMNS[: len(ORDER_COLUMNS) + 1]]
        for item in record["items"]:
            writer.writerow([*order, *(item[column] for column in ITEM_COLUMNS)])
        yield buffer.getvalue()


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
    docs/export.md). `fork=False` keeps SQLite's reading in one process (the API: no fork
    in a threaded server). The role is checked when called; the orders are read when iterated.
    Raises `ValidationFailed` for a format other than csv or jsonl.
    """
    if fmt not in FORMATS:
        from orderctl.errors import ValidationFailed

        raise ValidationFailed(f"format: must be csv or jsonl (got {fmt!r})")
    texts = iter_order_json(uow, actor, filters, sort=OrderSort.CREATED, fork=fork)
    return _csv(texts) if fmt == "csv" else _jsonl(texts)
