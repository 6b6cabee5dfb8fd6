"""`import orders --preset shopify`: Shopify's orders CSV read as orderctl's import (§7).

Shopify exports one row per line item. `Name` (`#1001`) is the order number, and on the second
and later rows of an order most order-level cells are empty: they are filled from the order's
first row. The mapping of columns and of statuses is the table in docs/import.md; this module
is its one implementation. Stdlib only (a leaf).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from orderctl.errors import ValidationFailed
from orderctl.services.import_layout import RowMapper

PRESETS = ("shopify",)

#: The import's columns, in the order the mapper writes them.
FIELDS = (
    "external_ref",
    "customer_email",
    "customer_name",
    "status",
    "currency",
    "created_at",
    "notes",
    "shipping_address",
    "sku",
    "quantity",
    "unit_price",
)
#: Import field → the Shopify column it comes from (lower case, as the header is compared).
SOURCES = {
    "external_ref": "name",
    "customer_email": "email",
    "customer_name": "billing name",
    "currency": "currency",
    "created_at": "created at",
    "notes": "notes",
    "sku": "lineitem sku",
    "quantity": "lineitem quantity",
    "unit_price": "lineitem price",
}
#: The fields without which no order can be read, and Shopify's spelling of their columns.
REQUIRED = ("external_ref", "customer_email", "sku", "quantity")
SPELLING = {"name": "Name", "email": "Email", "lineitem sku": "Lineitem sku"}
SPELLING["lineitem quantity"] = "Lineitem quantity"
ADDRESS = (
    ("shipping address1", "shipping street"),
    ("shipping address2",),
    ("shipping zip",),
    ("shipping city",),
    ("shipping province",),
    ("shipping country",),
)
#: Shopify's Financial Status → orderctl's status; paid ones depend on fulfilment.
FINANCIAL = {
    "pending": "pending",
    "authorized": "pending",
    "partially_paid": "pending",
    "paid": "paid",
    "partially_refunded": "paid",
    "refunded": "refunded",
    "voided": "cancelled",
    "expired": "cancelled",
}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"


def shopify_status(financial: str, fulfillment: str, cancelled_at: str) -> str:
    """orderctl's status for a Shopify order (docs/import.md). Raises ValueError."""
    key = financial.strip().lower().replace(" ", "_")
    if not key:
        raise ValueError("Financial Status is empty")
    if key not in FINANCIAL:
        raise ValueError(f"Financial Status {financial!r} is not one of {', '.join(FINANCIAL)}")
    status = FINANCIAL[key]
    if cancelled_at.strip() and status != "refunded":
        return "cancelled"
    if status == "paid" and fulfillment.strip().lower() == "fulfilled":
        return "shipped"
    return status


def shopify_time(text: str) -> str:
    """`2026-08-04 05:24:22 +0500` as an ISO 8601 UTC time ('' stays ''). Raises ValueError."""
    if not text.strip():
        return ""
    try:
        moment = datetime.strptime(text.strip(), TIME_FORMAT)
    except ValueError:
        raise ValueError(
            f"Created at {text!r} is not a Shopify time (like 2026-08-04 05:24:22 +0500)"
        ) from None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shopify(names: list[str], renames: Sequence[tuple[str, str]]) -> RowMapper:
    """The mapper for a Shopify orders export whose header is `names` (normalised).

    A `--map COLUMN=FIELD` takes FIELD from COLUMN instead of the preset's column (a mapped
    `status` is read as an orderctl status). Raises ValidationFailed for a header that is not
    a Shopify orders export, LookupError for a mapped column it does not have."""
    sources = dict(SOURCES)
    for column, field in renames:
        sources[field] = column.strip().lower()
        if sources[field] not in names:
            raise LookupError(column)
    missing = [sources[field] for field in REQUIRED if sources[field] not in names]
    if missing:
        raise ValidationFailed(
            "line 1: not a Shopify orders export: missing column(s) "
            + ", ".join(repr(SPELLING.get(c, c)) for c in missing)
        )
    where = {name: i for i, name in enumerate(names)}
    take = {field: where.get(column) for field, column in sources.items()}
    i_status = take.pop("status", None)
    i_ref = where[sources["external_ref"]]
    financial = where.get("financial status")
    fulfillment = where.get("fulfillment status")
    cancelled = where.get("cancelled at")
    i_item = where.get("lineitem name")
    address = [next((where[c] for c in group if c in where), None) for group in ADDRESS]
    shipping_name = where.get("shipping name")
    # Order-level cells are filled from the order's first row; line item cells are not.
    fill = [i for i, name in enumerate(names) if not name.startswith("lineitem ")]
    first: list[str] = []

    def cell(row: list[str], i: int | None) -> str:
        return row[i] if i is not None else ""

    def convert(row: list[str]) -> tuple[list[str], str | None]:
        nonlocal first
        if first and row[i_ref].strip() and row[i_ref] == first[i_ref]:
            row = list(row)
            for i in fill:
                if not row[i]:
                    row[i] = first[i]
        else:
            first = row
        out = {field: cell(row, i) for field, i in take.items()}
        out["status"], problem = "", None
        try:
            if i_status is not None:
                out["status"] = row[i_status]
            else:
                out["status"] = shopify_status(
                    cell(row, financial), cell(row, fulfillment), cell(row, cancelled)
                )
            out["created_at"] = shopify_time(out["created_at"])
        except ValueError as exc:
            problem = str(exc)
        if not out["customer_name"].strip():
            out["customer_name"] = cell(row, shipping_name)
        out["shipping_address"] = ", ".join(part for i in address if (part := cell(row, i).strip()))
        if not out["sku"].strip() and problem is None:
            item = cell(row, i_item).strip() or "a line item"
            problem = (
                f"{item!r} has no SKU (Lineitem sku is empty): orderctl imports lines by SKU, "
                "so this order is not imported"
            )
        return [out[field] for field in FIELDS], problem

    return RowMapper(names=list(FIELDS), convert=convert, source_ref=i_ref)
