"""The catalog: add, list, show, update and import products (DESIGN.md §4).

Prices live on the product; an order line copies the price when the order is created, so a
price change here never touches existing orders.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import IO, Any

from pydantic import BaseModel

from orderctl import clock
from orderctl.enums import Role, StockReason
from orderctl.errors import Conflict, RuleViolation, ValidationFailed
from orderctl.models import Product
from orderctl.repositories.stock import Movement, movement
from orderctl.schemas import STOCK_MAX, ProductCreate, ProductRead, ProductUpdate, parse
from orderctl.services.access import Actor, requires
from orderctl.services.uow import UnitOfWork

#: The columns of a catalog CSV file, in the documented order (any order is accepted).
IMPORT_COLUMNS = ("sku", "name", "unit_price", "stock")
#: No valid row comes close (SKU 64 + name 200 characters); a longer line is refused, so a
#: file without newlines cannot make the import hold it all in memory.
MAX_LINE_BYTES = 64 * 1024
#: Validated rows are written in batches, one IN query per batch to find existing SKUs.
IMPORT_BATCH = 500

#: A price as text: plain decimal digits with an optional dot, no exponent, no comma, no NaN.
PRICE_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
STOCK_TEXT = re.compile(r"[+-]?[0-9]+")


class ImportSummary(BaseModel):
    """The result of `products import`: how many rows created, updated or left unchanged."""

    file: str
    rows: int
    created: int
    updated: int
    unchanged: int


def _shown(text: str) -> str:
    """A user's value quoted for an error line: escaped, and clipped when long."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "..."


def price_text_problem(text: str) -> str | None:
    """Why `text` is not a plain decimal price (`12.50`), or None when it is one."""
    if PRICE_TEXT.fullmatch(text.strip()):
        return None
    if "," in text:
        return f"{_shown(text)} is not a number (use a dot for decimals: 12.50)"
    return f"{_shown(text)} is not a plain decimal number like 12.50"


def _price(value: Decimal) -> Decimal:
    # "-0" parses as Decimal("-0.00"), which would print as "-0.00".
    return value.copy_abs() if value.is_zero() else value


@requires(Role.ADMIN)
def add_product(
    uow: UnitOfWork, actor: Actor, data: ProductCreate | Mapping[str, Any]
) -> ProductRead:
    """Add a product. Raises `Conflict` (exit 6) when the SKU exists, `ValidationFailed`.

    `data` may be raw input: it is validated after the role check.
    """
    if not isinstance(data, ProductCreate):
        data = parse(ProductCreate, data)
    if uow.products.get_by_sku(data.sku) is not None:
        raise Conflict(f"product {data.sku!r} already exists (use `orderctl products update`)")
    product = uow.products.add(
        Product(
            sku=data.sku,
            name=data.name,
            unit_price=_price(data.unit_price),
            stock=data.stock,
            active=data.active,
            updated_by=actor.username,
        )
    )
    read = ProductRead.model_validate(product)
    uow.commit()
    return read


@requires(Role.VIEWER)
def list_products(
    uow: UnitOfWork, actor: Actor, *, active: bool | None = True
) -> list[ProductRead]:
    """Products by SKU: active ones by default, `active=False` only inactive, None all."""
    return [ProductRead.model_validate(p) for p in uow.products.list(active=active)]


@requires(Role.VIEWER)
def get_product(uow: UnitOfWork, actor: Actor, sku: str) -> ProductRead:
    """One product, active or not. Raises `NotFound` (exit 5)."""
    return ProductRead.model_validate(uow.products.get_one_by_sku(sku.strip()))


@requires(Role.ADMIN)
def update_product(
    uow: UnitOfWork, actor: Actor, sku: str, data: ProductUpdate | Mapping[str, Any]
) -> ProductRead:
    """Change the fields set in `data`. Raises `NotFound` (exit 5), `ValidationFailed`.

    `stock=None` given explicitly stops tracking stock. Existing order lines keep their price.
    """
    if not isinstance(data, ProductUpdate):
        data = parse(ProductUpdate, data)
    # A new stock level replaces the one read here: lock the row so no reservation slips in
    # between and the `set` movement records the exact difference.
    setting = "stock" in data.model_fields_set
    product = uow.products.get_one_by_sku(sku.strip(), for_update=setting)
    if data.unit_price is not None:
        product.unit_price = _price(data.unit_price)
    if data.name is not None:
        product.name = data.name
    if data.active is not None:
        product.active = data.active
    if setting:
        uow.stock.add_movements([set_stock(product, data.stock, actor.username)])
    if data.add_stock is not None:
        _add_stock(uow, product, data.add_stock, actor.username)
    product.updated_by = actor.username
    product.updated_at = clock.utcnow()
    read = ProductRead.model_validate(product)
    uow.commit()
    return read


def set_stock(product: Product, stock: int | None, actor: str, note: str | None = None) -> Movement:
    """Give a product (read with its row locked) a new absolute stock level; returns the `set`
    movement of the difference, for `StockRepository.add_movements` (a zero one is skipped).

    Starting to track counts from 0; stopping (None) takes the whole level out, so an
    untracked product's ledger sums to 0 and tracking it again starts from a clean count.
    """
    old = product.stock
    product.stock = stock
    if note is None and (old is None) != (stock is None):
        note = "stock tracking started" if old is None else "stock tracking stopped"
    return movement(product.id, (stock or 0) - (old or 0), StockReason.SET, actor, note=note)


def _add_stock(uow: UnitOfWork, product: Product, delta: int, actor: str) -> None:
    """Change the stock by `delta` in the database, not from the value read above, so a
    reservation made meanwhile is not lost; records an `adjust` movement. Raises
    `RuleViolation` (exit 6) when the product does not track stock or the result would leave
    0..STOCK_MAX."""
    if uow.products.adjust_stock(product.id, delta, STOCK_MAX):
        uow.stock.add_movements([movement(product.id, delta, StockReason.ADJUST, actor)])
        uow.products.refresh_stock(product)
        return
    uow.products.refresh_stock(product)
    if product.stock is None:
        raise RuleViolation(
            f"product {product.sku!r} does not track stock: set a level with --stock first"
        )
    raise RuleViolation(
        f"stock of {product.sku!r} is {product.stock}; adding {delta} would leave 0..{STOCK_MAX}"
    )


# ---- import ----


def _lines(stream: IO[bytes], name: str) -> Iterator[tuple[int, str]]:
    """(line number, text) for each physical line, decoded strictly as UTF-8 (BOM dropped)."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise ValidationFailed(f"{name} line {number}: longer than {MAX_LINE_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                f"{name} line {number}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
                f"column {exc.start + 1}); save the file as UTF-8"
            ) from None
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield number, text


def _rows(stream: IO[bytes], name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line number, {column: cell}) for each data row; checks the header first."""
    lines = _lines(stream, name)
    current = 0

    def source() -> Iterator[str]:
        nonlocal current
        for number, text in lines:
            current = number
            yield text

    reader = csv.reader(source(), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ValidationFailed(
                f"{name} is empty: expected the header line {','.join(IMPORT_COLUMNS)}"
            )
        columns = [cell.strip() for cell in header]
        _check_header(columns, name)
        start = current + 1
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                start = current + 1
                continue  # a blank line
            if len(cells) != len(columns):
                raise ValidationFailed(
                    f"{name} line {start}: expected {len(columns)} fields, found {len(cells)}"
                )
            yield start, dict(zip(columns, cells, strict=True))
            start = current + 1
    except csv.Error as exc:
        raise ValidationFailed(f"{name} line {current}: malformed CSV: {exc}") from None


def _check_header(columns: list[str], name: str) -> None:
    expected = ", ".join(IMPORT_COLUMNS)
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ValidationFailed(f"{name} line 1: column {duplicated[0]!r} appears twice")
    unknown = [c for c in columns if c not in IMPORT_COLUMNS]
    if unknown:
        raise ValidationFailed(
            f"{name} line 1: unknown column {unknown[0]!r} (the columns are {expected})"
        )
    missing = [c for c in IMPORT_COLUMNS if c not in columns]
    if missing:
        raise ValidationFailed(
            f"{name} line 1: missing column {missing[0]!r} (the columns are {expected})"
        )


def _validate_row(line: int, row: dict[str, str], name: str) -> ProductCreate:
    where = f"{name} line {line}"
    price = row["unit_price"]
    problem = price_text_problem(price)
    if problem:
        raise ValidationFailed(f"{where}: unit_price: {problem}")
    stock_text = row["stock"].strip()
    if stock_text and not STOCK_TEXT.fullmatch(stock_text):
        raise ValidationFailed(
            f"{where}: stock: {_shown(stock_text)} is not a whole number "
            "(leave it empty for not tracked)"
        )
    data = parse(
        ProductCreate,
        {
            "sku": row["sku"],
            "name": row["name"],
            "unit_price": price.strip(),
            "stock": stock_text or None,
        },
        where=where,
    )
    return data


@requires(Role.ADMIN)
def import_products(uow: UnitOfWork, actor: Actor, stream: IO[bytes], name: str) -> ImportSummary:
    """Upsert products by SKU from a CSV stream (`sku,name,unit_price,stock`), all or nothing.

    An empty `stock` cell means not tracked. An existing product gets the file's name, price
    and stock; its `active` flag is left as it is. Rows are read and validated one at a time
    and written in batches inside one transaction, so memory stays flat and a bad row (raised
    as `ValidationFailed`, exit 6, naming the file line and the field) leaves nothing written.
    """
    seen: dict[str, int] = {}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    batch: list[tuple[int, ProductCreate]] = []
    rows = 0
    for line, row in _rows(stream, name):
        data = _validate_row(line, row, name)
        if data.sku in seen:
            raise ValidationFailed(
                f"{name} line {line}: sku: {data.sku!r} appears again (first on line "
                f"{seen[data.sku]})"
            )
        seen[data.sku] = line
        batch.append((line, data))
        rows += 1
        if len(batch) >= IMPORT_BATCH:
            _write_batch(uow, actor.username, batch, counts, name)
            batch = []
    _write_batch(uow, actor.username, batch, counts, name)
    uow.commit()
    return ImportSummary(file=name, rows=rows, **counts)


def _write_batch(
    uow: UnitOfWork,
    username: str,
    batch: list[tuple[int, ProductCreate]],
    counts: dict[str, int],
    name: str,
) -> None:
    if not batch:
        return
    # Locked: a changed stock level replaces the one read here (see `set_stock`).
    existing = uow.products.get_many_by_sku((data.sku for _, data in batch), for_update=True)
    now = clock.utcnow()
    note = f"products import {name}"
    new: list[Product] = []
    movements: list[Movement] = []
    for _, data in batch:
        price = _price(data.unit_price)
        product = existing.get(data.sku)
        if product is None:
            new.append(
                Product(
                    sku=data.sku,
                    name=data.name,
                    unit_price=price,
                    stock=data.stock,
                    active=True,
                    updated_by=username,
                )
            )
            counts["created"] += 1
        elif (product.name, product.unit_price, product.stock) == (data.name, price, data.stock):
            counts["unchanged"] += 1
        else:
            product.name = data.name
            product.unit_price = price
            movements.append(set_stock(product, data.stock, username, note))
            product.updated_by = username
            product.updated_at = now
            counts["updated"] += 1
    uow.products.add_many(new, note=note)
    uow.stock.add_movements(movements)
