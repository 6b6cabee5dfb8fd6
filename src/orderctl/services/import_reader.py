"""Streaming readers for `orderctl import orders` (DESIGN.md §7): CSV and JSONL, and rejects files.

A reader turns a binary stream into `RawOrder`s, one per order, without holding the file: a CSV
order is a run of consecutive rows with the same `external_ref`, a JSONL order is one line.
Readers only parse and group; validation (Pydantic) happens in `services.imports`. Problems a
reader can already see (a bad line, a broken row) come out as a `RawOrder` with `error` set, so
the service can reject that one order and go on (`--on-error skip`). Problems with the file as a
whole (empty file, missing columns) raise `ValidationFailed` (exit 6).

Stdlib only, so it stays a leaf (no SQLAlchemy, no typer).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import IO, Any

from orderctl.errors import ValidationFailed
from orderctl.order_content import TEXT_FIELDS
from orderctl.parsing import JSON_MAX_BYTES, InvalidJson, load_json
from orderctl.services import import_presets
from orderctl.services.import_layout import (
    CsvLayout,
    RowMapper,
    check_renames,
    delimiter_hint,
    detect_delimiter,
    parse_delimiter,
    parse_map,
    renamed,
)

#: CSV columns (DESIGN.md §7); the required ones must be in the header.
REQUIRED_COLUMNS = ("external_ref", "customer_email", "sku", "quantity")
ORDER_COLUMNS = (
    "customer_email",
    "customer_name",
    "status",
    "currency",
    "created_at",
    *TEXT_FIELDS,
)
ITEM_COLUMNS = ("sku", "quantity", "unit_price")
KNOWN_COLUMNS = frozenset(("external_ref", *ORDER_COLUMNS, *ITEM_COLUMNS))
#: The column a rejects file adds; ignored on input so a rejects file re-imports as is.
ERROR_COLUMN = "error"
#: One CSV field may hold up to 16 MiB (a 1 MB line must be read and rejected, not crash).
FIELD_SIZE_LIMIT = 1 << 24
#: What a rejects file keeps of a JSONL line over `JSON_MAX_BYTES` (the line is not held).
REJECT_PREFIX = 1024
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

Warn = Callable[[str], None]


@dataclass(slots=True)
class RawOrder:
    """One order as read from the file, before validation.

    `lines` are the file line numbers of its rows (CSV: where each row starts; JSONL: the one
    line). `data` is the `OrderCreate` input (None when the reader already found an `error`).
    `raw` is what a rejects file needs: the original CSV rows, or the original JSONL text.
    """

    lines: list[int]
    data: dict[str, Any] | None
    raw: list[list[str]] | str
    error: str | None = None
    ref: str = ""
    #: A JSONL line over the limit: `raw` holds only its first `REJECT_PREFIX` bytes.
    cut: bool = False

    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def where(self) -> str:
        first, last = self.lines[0], self.lines[-1]
        return f"line {first}" if first == last else f"lines {first}-{last}"


def format_for(name: str, given: str | None, fallback: str | None = None) -> str:
    """The format of FILE: `--format` when given, else from the extension, else `fallback`
    (`--preset` implies csv).

    Raises `ValueError` (the CLI makes it a usage error, exit 2) when it cannot be known.
    """
    if given is not None:
        return given
    if fallback is not None and not name.lower().endswith(tuple(EXTENSIONS)):
        return fallback
    if name == "-":
        raise ValueError("reading stdin needs --format csv or --format jsonl")
    lower = name.lower()
    for ext, fmt in EXTENSIONS.items():
        if lower.endswith(ext):
            return fmt
    raise ValueError(
        f"cannot tell the format of {name!r} from its extension (.csv, .jsonl, .ndjson): "
        "pass --format csv or --format jsonl"
    )


def csv_layout(
    fmt: str, preset: str | None, maps: Sequence[str], delimiter: str | None
) -> CsvLayout | None:
    """The `CsvLayout` of `--preset`, `--map`s and `--delimiter` (None: none given).

    Raises ValueError (a usage error) for a bad value or any of them with JSONL."""
    if preset is None and not maps and delimiter is None:
        return None
    if fmt != "csv":
        raise ValueError("--preset, --map and --delimiter apply to CSV files only")
    fields = import_presets.FIELDS if preset else sorted(KNOWN_COLUMNS)
    renames = tuple(parse_map(text, fields) for text in maps)
    check_renames(renames)
    return CsvLayout(
        delimiter=parse_delimiter(delimiter) if delimiter is not None else None,
        preset=preset,
        renames=renames,
    )


def read_orders(
    stream: IO[bytes], fmt: str, *, warn: Warn, layout: CsvLayout | None = None
) -> tuple[list[str] | None, Iterator[RawOrder]]:
    """The CSV header (None for JSONL) and a stream of the file's orders (binary stream).

    `layout` (CSV only): the delimiter, `--map` renames and `--preset` (import_layout.py)."""
    if fmt == "csv":
        return read_csv(stream, warn=warn, layout=layout or CsvLayout())
    return None, read_jsonl(stream)


def _bad_text(text: str) -> str | None:
    """Why a decoded row cannot be stored (bytes that were not UTF-8, NUL), or None."""
    if "\x00" in text:
        return "contains a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid UTF-8"
    return None


def _text_stream(stream: IO[bytes]) -> io.TextIOWrapper:
    # utf-8-sig drops a BOM; surrogateescape keeps undecodable bytes so the one bad row can be
    # rejected (and written back byte for byte to the rejects file) instead of the whole file.
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")


def read_csv(
    stream: IO[bytes], *, warn: Warn, layout: CsvLayout = CsvLayout()
) -> tuple[list[str], Iterator[RawOrder]]:
    """Group consecutive rows with the same `external_ref` into orders.

    Raises `ValidationFailed` for an empty file, a header without the required columns, or a
    repeated column. Unknown columns are ignored with a warning (`error` silently). The
    returned header is the file's own (a rejects file repeats it).
    """
    text = _text_stream(stream)
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    first = text.readline()
    if not first:
        raise ValidationFailed("the file is empty: a CSV import needs a header row")
    delimiter = layout.delimiter or detect_delimiter(first)
    reader = csv.reader(itertools.chain((first,), text), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ValidationFailed(f"line 1: cannot read the CSV header: {exc}") from None
    header_problem = _bad_text("".join(header))
    if header_problem:
        raise ValidationFailed(f"line 1: the header {header_problem}")
    names = [h.strip().lower() for h in header]
    _check_unique(names, "")
    mapper = _mapper(names, layout)
    missing = [c for c in REQUIRED_COLUMNS if c not in mapper.names]
    if missing:
        raise ValidationFailed(
            f"line 1: missing required column(s) {', '.join(missing)} "
            f"(header: {', '.join(names) or 'empty'}){delimiter_hint(names, delimiter)}"
        )
    if mapper.convert is None:
        unknown = [n for n in mapper.names if n not in KNOWN_COLUMNS and n != ERROR_COLUMN]
        if unknown:
            warn(f"ignoring unknown column(s): {', '.join(repr(u) for u in unknown)}")
    return header, _csv_groups(reader, len(names), mapper)


def _check_unique(names: list[str], why: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationFailed(f"line 1: column {name!r} appears twice in the header{why}")
        seen.add(name)


def _mapper(names: list[str], layout: CsvLayout) -> RowMapper:
    """How the file's columns `names` become the import's (`--preset`, `--map`)."""
    try:
        if layout.preset == "shopify":
            return import_presets.shopify(names, layout.renames)
        mapped = renamed(names, layout.renames)
    except LookupError as exc:
        raise ValidationFailed(
            f"line 1: --map names the column {exc.args[0]!r}, which the header does not have "
            f"(header: {', '.join(names)})"
        ) from None
    if layout.renames:
        _check_unique(mapped, " after --map")
    return RowMapper(names=mapped)


def _csv_groups(reader: Any, width: int, mapper: RowMapper) -> Iterator[RawOrder]:
    idx = {n: i for i, n in enumerate(mapper.names)}
    convert = mapper.convert
    i_raw_ref = idx["external_ref"] if mapper.source_ref is None else mapper.source_ref
    i_ref = idx["external_ref"]
    order_idx = [(c, idx[c]) for c in ORDER_COLUMNS if c in idx]
    i_sku, i_qty = idx["sku"], idx["quantity"]
    i_price = idx.get("unit_price")
    order_cols = [i for _, i in order_idx]
    # itemgetter returns a tuple for two or more indices; customer_email is always there.
    key_of = itemgetter(*order_cols) if len(order_cols) > 1 else lambda r: (r[order_cols[0]],)

    current: RawOrder | None = None
    current_key: tuple[str, ...] = ()
    last_line = 1
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            last_line = reader.line_num
            if current is not None:
                yield current
                current = None
            yield RawOrder(lines=[start], data=None, raw=[], error=f"cannot read CSV: {exc}")
            continue
        last_line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        problem = _bad_text("".join(row))
        if problem is None and len(row) != width:
            problem = f"has {len(row)} fields, the header has {width}"
        ref = row[i_raw_ref].strip() if len(row) > i_raw_ref else ""
        if problem is not None:
            if current is not None:
                yield current
                current = None
            yield RawOrder(lines=[start], data=None, raw=[row], error=problem, ref=ref)
            continue
        source, refused = row, None
        if convert is not None:
            row, refused = convert(source)
            ref = row[i_ref].strip()
        price = row[i_price].strip() if i_price is not None else ""
        item: dict[str, Any] = {"sku": row[i_sku], "quantity": row[i_qty].strip()}
        if price:
            item["unit_price"] = price
        key = key_of(row)
        if current is not None and ref and ref == current.ref and current.error is None:
            if key != current_key:
                differs = next(
                    c for (c, i), a, b in zip(order_idx, key, current_key, strict=True) if a != b
                )
                current.error = (
                    f"line {start}: {differs} differs from line {current.lines[0]} of the same "
                    "order (rows of one order must agree on the order columns)"
                )
            elif refused is not None:
                current.error = f"line {start}: {refused}"
            else:
                assert current.data is not None
                current.data["items"].append(item)
            current.lines.append(start)
            assert isinstance(current.raw, list)
            current.raw.append(source)
            continue
        if current is not None and ref and ref == current.ref:
            current.lines.append(start)  # more rows of an order already known to be bad
            assert isinstance(current.raw, list)
            current.raw.append(source)
            continue
        if current is not None:
            yield current
        data: dict[str, Any] = {"external_ref": ref, "items": [item]}
        for (col, _), value in zip(order_idx, key, strict=True):
            if value != "":
                data[col] = value
        current = RawOrder(lines=[start], data=data, raw=[source], ref=ref)
        current_key = key
        if not ref:
            current.error = "external_ref: is required for import (it makes imports idempotent)"
        elif refused is not None:
            current.error = f"line {start}: {refused}"
    if current is not None:
        yield current


def _jsonl_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes without the line end, whole) per line; a line longer than
    `JSON_MAX_BYTES` is not held: its first `REJECT_PREFIX` bytes come back with whole=False,
    the rest is read past in pieces."""
    lineno = 0
    # Two bytes over the limit: a line of exactly the limit still fits with its CR LF.
    while raw := stream.readline(JSON_MAX_BYTES + 2):
        lineno += 1
        if len(raw) > JSON_MAX_BYTES and not raw.endswith(b"\n"):
            head = raw[:REJECT_PREFIX]
            while (rest := stream.readline(1 << 16)) and not rest.endswith(b"\n"):
                pass
            yield lineno, head, False
            continue
        yield lineno, raw.rstrip(b"\r\n"), True


def read_jsonl(stream: IO[bytes]) -> Iterator[RawOrder]:
    """One order per line; blank lines are skipped; an `error` key (rejects files) is ignored.

    Each line is one document for `parsing.load_json` (at most 1 MiB, strict UTF-8, no
    duplicate keys, no NaN, limited nesting); a refused line is a rejected order."""
    for lineno, raw_bytes, whole in _jsonl_lines(stream):
        if lineno == 1 and raw_bytes.startswith(codecs.BOM_UTF8):
            raw_bytes = raw_bytes[len(codecs.BOM_UTF8) :]
        # surrogateescape: a line that is not UTF-8 goes to a rejects file byte for byte.
        line = raw_bytes.decode("utf-8", errors="surrogateescape")
        if not whole:
            error = (
                f"the line is longer than {JSON_MAX_BYTES} bytes (1 MiB), the limit of one "
                f"JSONL line (a rejects file keeps its first {REJECT_PREFIX} bytes)"
            )
            yield RawOrder(lines=[lineno], data=None, raw=line, error=error, cut=True)
            continue
        if not line.strip():
            continue
        try:
            data = load_json(raw_bytes)
        except InvalidJson as exc:
            yield RawOrder(lines=[lineno], data=None, raw=line, error=str(exc))
            continue
        if not isinstance(data, dict):
            yield RawOrder(
                lines=[lineno],
                data=None,
                raw=line,
                error=f"expected a JSON object (one order), got {type(data).__name__}",
            )
            continue
        data.pop(ERROR_COLUMN, None)
        ref = data.get("external_ref")
        order = RawOrder(
            lines=[lineno], data=data, raw=line, ref=ref.strip() if isinstance(ref, str) else ""
        )
        if ref is None or (isinstance(ref, str) and not ref.strip()):
            order.error = "external_ref: is required for import (it makes imports idempotent)"
        yield order


class RejectsWriter:
    """Writes rejected orders so the file can be fixed and imported again as is.

    CSV: the original header plus an `error` column, then every original row of each rejected
    order with the reason in `error`. JSONL: the original object plus an `"error"` key; a line
    that was not a JSON object becomes `{"line": "<original text>", "error": ...}`.
    """

    def __init__(self, stream: IO[bytes], fmt: str) -> None:
        self.fmt = fmt
        self.text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
        self.writer = csv.writer(self.text, lineterminator="\r\n") if fmt == "csv" else None
        self.error_at = -1

    def header(self, header: list[str]) -> None:
        assert self.writer is not None
        names = [h.strip().lower() for h in header]
        if ERROR_COLUMN in names:
            self.error_at = names.index(ERROR_COLUMN)
            self.writer.writerow(header)
        else:
            self.writer.writerow([*header, ERROR_COLUMN])

    def write(self, order: RawOrder, reason: str) -> None:
        if self.writer is not None:
            assert isinstance(order.raw, list)
            for row in order.raw:
                if self.error_at >= 0:
                    out = list(row)
                    if self.error_at < len(out):
                        out[self.error_at] = reason
                    self.writer.writerow(out)
                else:
                    self.writer.writerow([*row, reason])
            return
        assert isinstance(order.raw, str)
        doc: dict[str, Any]
        try:
            # The start of a cut line may parse, but it is not the order the file had.
            parsed = None if order.cut else load_json(order.raw.encode("utf-8", "surrogateescape"))
        except InvalidJson:
            parsed = None
        if isinstance(parsed, dict):
            doc = dict(parsed)
            doc[ERROR_COLUMN] = reason
            text = json.dumps(doc, ensure_ascii=False, default=str)
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                # A `\ud800` escape parsed into a lone surrogate, which UTF-8 cannot carry:
                # write non-ASCII characters as escapes again, as the file had it.
                text = json.dumps(doc, default=str)
        else:
            # surrogateescape gives undecodable bytes back as they were in the file.
            text = json.dumps({"line": order.raw, ERROR_COLUMN: reason}, ensure_ascii=False)
        self.text.write(text + "\n")

    def close(self) -> None:
        self.text.flush()
        self.text.detach()
