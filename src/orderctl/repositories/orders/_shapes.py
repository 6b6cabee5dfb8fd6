"""The texts the database writes per order for a stream (`OrderRepository.stream`): the
listing's §6 JSON document, or the import format of §7 that `orders export` writes (one JSONL
line, or the CSV rows) — DESIGN.md §6, §7, §14.

A shape is the order's text without its lines (`order_text`), one line's text (`item_text`),
the separator between an order's line texts, and how Python joins the two (`assemble`: a few
string operations per order, no parsing). The database does the formatting and the quoting,
so Python passes text through whichever the shape (docs/performance.md, *Export and db copy*).

The import shapes write exactly what `json.dumps(record, ensure_ascii=False)` and Python's
`csv.writer` wrote for the same values (tests/test_export_shapes.py compares them byte for
byte): `", "`/`": "` separators, keys without a value left out; CSV cells quoted when they hold
a quote, a comma or a line end, quotes doubled, `\r\n` line ends.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from sqlalchemy import Text, case, cast, func, literal_column

from orderctl.order_content import TEXT_FIELDS
from orderctl.tables import customers, order_items, orders

#: The ref of an order that has none (`orderctl-<id>`), so importing an export twice is
#: idempotent (docs/export.md).
GENERATED_REF_PREFIX = "orderctl-"


class Kind:
    """How a value goes into a PostgreSQL JSON text: as a number, an already quoted or
    JSON text, or (default) a string or null."""

    def __init__(self, value: Any, kind: str) -> None:
        self.value, self.kind = value, kind


class JsonSql:
    """SQL that formats values as orderctl's JSON does (money "12.50", "…T…Z" timestamps) and
    builds JSON objects: SQLite's `json_object`; on PostgreSQL plain text concatenation with
    `to_json` for strings (keys in order, and ~40 % cheaper than `json_build_object`)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def num(self, column: Any) -> Any:
        return column if self.sqlite else Kind(column, "num")

    def money(self, column: Any) -> Any:
        if self.sqlite:  # stored as REAL with two decimals; %.2f as Python's format_money
            return func.printf(literal_column("'%.2f'"), column)
        return Kind(cast(column, Text), "quoted")  # numeric(12, 2) prints two decimals

    def timestamp(self, column: Any) -> Any:
        if self.sqlite:
            # Stored as UTC text, `YYYY-MM-DD HH:MM:SS.ffffff` (SQLAlchemy's format, and the
            # bulk import's): cutting it is ~15 % cheaper per order than strftime's parse.
            return func.substr(column, 1, 10) + "T" + func.substr(column, 12, 8) + "Z"
        text = func.to_char(
            func.timezone(literal_column("'UTC'"), column),
            literal_column('\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''),
        )
        return Kind(text, "quoted")

    def obj(self, *pairs: tuple[str, Any]) -> Any:
        """A JSON object of (constant key, value) pairs, in this order."""
        if self.sqlite:
            args: list[Any] = []
            for key, value in pairs:
                args += [literal_column(f"'{key}'"), value]
            return func.json_object(*args)
        pieces: list[Any] = []
        for n, (key, value) in enumerate(pairs):
            head = ("{" if n == 0 else ",") + f'"{key}":'
            kind = value.kind if isinstance(value, Kind) else "str"
            expr = value.value if isinstance(value, Kind) else value
            if kind == "quoted":
                pieces += [literal_column(f"'{head}\"'"), expr, literal_column("'\"'")]
            elif kind in ("num", "json"):
                pieces += [literal_column(f"'{head}'"), expr]
            else:
                json_text = cast(func.to_json(expr), Text)
                pieces += [
                    literal_column(f"'{head}'"),
                    func.coalesce(json_text, literal_column("'null'")),
                ]
        return Kind(func.concat(*pieces, literal_column("'}'")), "json")

    def text(self, document: Any) -> Any:
        return document.value if isinstance(document, Kind) else document


def _const(text: str) -> Any:
    """A constant SQL text (no quote of ours holds a `'`; doubled anyway)."""
    return literal_column("'" + text.replace("'", "''") + "'", Text)


def _cat(*parts: Any) -> Any:
    """`a || b || …` (text concatenation; a NULL part makes the whole NULL)."""
    return reduce(lambda left, right: left.op("||")(right), parts)


def _plain(value: Any) -> Any:
    """A value as SQL text: the expression of a `Kind`, else the column as it is."""
    return value.value if isinstance(value, Kind) else value


class Shape:
    """How an order of a stream reads: see the module's docstring."""

    separator = ","

    def order_text(self, sql: JsonSql) -> Any:
        raise NotImplementedError

    def item_text(self, sql: JsonSql) -> Any:
        raise NotImplementedError

    def assemble(self, docs: list[tuple[int, str]], items: dict[int, str]) -> list[str]:
        """Each order's text (`docs`: its id and `order_text`) with its lines (`items`: the
        line texts of each order joined by `separator`; none for an order without lines)."""
        raise NotImplementedError


class ListingShape(Shape):
    """The §6 document of `orders list --all -o jsonl` (without a line end)."""

    def order_text(self, sql: JsonSql) -> Any:
        doc = sql.obj(
            ("id", sql.num(orders.c.id)),
            ("external_ref", orders.c.external_ref),
            ("status", orders.c.status),
            ("currency", orders.c.currency),
            ("total", sql.money(orders.c.total)),
            *((name, orders.c[name]) for name in TEXT_FIELDS),
            ("created_at", sql.timestamp(orders.c.created_at)),
            ("updated_at", sql.timestamp(orders.c.updated_at)),
            (
                "customer",
                sql.obj(
                    ("id", sql.num(customers.c.id)),
                    ("email", customers.c.email),
                    ("name", customers.c.name),
                ),
            ),
        )
        return sql.text(doc)

    def item_text(self, sql: JsonSql) -> Any:
        doc = sql.obj(
            ("sku", order_items.c.sku),
            ("name", order_items.c.name),
            ("quantity", sql.num(order_items.c.quantity)),
            ("unit_price", sql.money(order_items.c.unit_price)),
            ("line_total", sql.money(order_items.c.line_total)),
        )
        return sql.text(doc)

    def assemble(self, docs: list[tuple[int, str]], items: dict[int, str]) -> list[str]:
        # `{...}` + `"items":[...]` spliced as text: the order object ends in its customer.
        return [f'{doc[:-1]},"items":[{items.get(order_id, "")}]}}' for order_id, doc in docs]


def _export_ref() -> Any:
    generated = _cat(_const(GENERATED_REF_PREFIX), cast(orders.c.id, Text))
    return func.coalesce(func.nullif(orders.c.external_ref, ""), generated)


class ImportJsonlShape(Shape):
    """One JSONL line of the import format (§7), line end included."""

    separator = ", "

    @staticmethod
    def _string(sql: JsonSql, value: Any) -> Any:
        return func.json_quote(value) if sql.sqlite else cast(func.to_json(value), Text)

    def order_text(self, sql: JsonSql) -> Any:
        def key(name: str, value: Any, *, optional: bool = False) -> Any:
            pair = _cat(_const(f', "{name}": '), self._string(sql, value))
            return case((value.is_(None), _const("")), else_=pair) if optional else pair

        created = _plain(sql.timestamp(orders.c.created_at))
        return _cat(
            _const('{"external_ref": '),
            self._string(sql, _export_ref()),
            key("customer_email", customers.c.email),
            key("customer_name", customers.c.name, optional=True),
            key("status", orders.c.status),
            key("currency", orders.c.currency),
            _const(', "created_at": "'),
            created,
            _const('"'),
            *(key(name, orders.c[name], optional=True) for name in TEXT_FIELDS),
        )

    def item_text(self, sql: JsonSql) -> Any:
        return _cat(
            _const('{"sku": '),
            self._string(sql, order_items.c.sku),
            _const(', "quantity": '),
            cast(order_items.c.quantity, Text),
            _const(', "unit_price": "'),
            _plain(sql.money(order_items.c.unit_price)),
            _const('"}'),
        )

    def assemble(self, docs: list[tuple[int, str]], items: dict[int, str]) -> list[str]:
        return [f'{doc}, "items": [{items.get(order_id, "")}]}}\n' for order_id, doc in docs]


class ImportCsvShape(Shape):
    """An order's CSV rows of the import format (§7): its cells up to the line's, then one
    row per line, each ending in `\\r\\n`; no rows for an order without lines."""

    # Between an order's line texts: a line's cells never hold a line end (a SKU is one
    # line, `schemas.Sku`; quantity and price are numbers).
    separator = "\n"

    @staticmethod
    def _cell(sql: JsonSql, value: Any) -> Any:
        """`value` as csv.writer's minimal quoting writes it; NULL as an empty cell."""
        if sql.sqlite:
            special = literal_column("'*[\",' || char(10) || char(13) || ']*'", Text)
            needs_quotes = value.op("GLOB")(special)
        else:
            needs_quotes = value.op("~")(literal_column("E'[\",\\r\\n]'", Text))
        quoted = _cat(_const('"'), func.replace(value, _const('"'), _const('""')), _const('"'))
        return case((value.is_(None), _const("")), (needs_quotes, quoted), else_=value)

    def order_text(self, sql: JsonSql) -> Any:
        cells = [
            self._cell(sql, _export_ref()),
            self._cell(sql, customers.c.email),
            self._cell(sql, customers.c.name),
            self._cell(sql, orders.c.status),
            self._cell(sql, orders.c.currency),
            _plain(sql.timestamp(orders.c.created_at)),
            *(self._cell(sql, orders.c[name]) for name in TEXT_FIELDS),
        ]
        return _cat(*(part for cell in cells for part in (cell, _const(","))))

    def item_text(self, sql: JsonSql) -> Any:
        return _cat(
            self._cell(sql, order_items.c.sku),
            _const(","),
            cast(order_items.c.quantity, Text),
            _const(","),
            _plain(sql.money(order_items.c.unit_price)),
        )

    def assemble(self, docs: list[tuple[int, str]], items: dict[int, str]) -> list[str]:
        texts = []
        for order_id, doc in docs:
            lines = items.get(order_id)
            texts.append("".join(f"{doc}{line}\r\n" for line in lines.split("\n")) if lines else "")
        return texts


LISTING = ListingShape()
#: The shapes by name (`OrderRepository.stream(shape=…)`).
SHAPES: dict[str, Shape] = {
    "listing": LISTING,
    "import-jsonl": ImportJsonlShape(),
    "import-csv": ImportCsvShape(),
}
