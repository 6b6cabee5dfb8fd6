"""The export's import-format text as Python wrote it from the listing's §6 documents (the
formatter `orders export` had before the database wrote that text): the reference the
database-written shapes are compared with byte for byte (tests/test_export_shapes.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from orderctl.services.import_reader import ITEM_COLUMNS, ORDER_COLUMNS

CSV_COLUMNS = ("external_ref", *ORDER_COLUMNS, *ITEM_COLUMNS)


def import_record(doc: dict[str, Any]) -> dict[str, Any]:
    """An order's §6 document as one JSONL import record (§7), keys without a value left
    out, `orderctl-<id>` for a missing ref."""
    customer = doc["customer"]
    ref = doc.get("external_ref")
    record: dict[str, Any] = {
        "external_ref": str(ref) if ref else f"orderctl-{doc['id']}",
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


def reference_jsonl(texts: Iterable[str]) -> Iterator[str]:
    """One JSONL line per listing document."""
    for text in texts:
        yield json.dumps(import_record(json.loads(text)), ensure_ascii=False) + "\n"


def reference_csv(texts: Iterable[str]) -> Iterator[str]:
    """The CSV header, then each listing document's rows."""
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
