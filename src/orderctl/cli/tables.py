"""Tables of records, streamed (DESIGN.md §12, docs/output.md).

Three forms of one declaration (a list of `Column`s per table):

- **terminal** (`-o table` on a terminal): fits the terminal's width; a cell never wraps. The
  least important columns go first (each column's `rank`: 1 is kept longest), then long cells
  are cut with `…`. Times are compact UTC (`2026-11-30 14:05`), statuses coloured.
- **wide** (`-o wide` on a terminal): every column, full values, aligned, whatever the width.
- **pipe** (`-o table` or `-o wide` when stdout is not a terminal): tab-separated, one record
  per line, a header line, full values and ISO times, no colour unless forced.

Rows are written as they come: widths are decided from the declaration, the terminal's width
and the first `SAMPLE` rows, so `orders list --all` holds one sample of rows at most.
Every cell goes through `printable()`: no control character from the data reaches the screen.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Any

from orderctl.cli.render import cell_string, color_enabled, document, lookup

if TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, the document key it shows (dotted for nested
    documents), and its rank: when the terminal is too narrow, the highest rank goes first."""

    header: str
    key: str
    rank: int = 0


#: A table's columns in display order; a plain (header, key) pair ranks by its position.
ColumnSpec = Sequence[Column | tuple[str, str]]

#: The one map from a status (of an order, a token, a user) to its style on a terminal.
STATUS_STYLES = {
    "pending": "yellow",
    "paid": "green",
    "shipped": "cyan",
    "delivered": "blue",
    "cancelled": "red",
    "refunded": "magenta",
    "active": "green",
    "expired": "yellow",
    "revoked": "red",
    "user disabled": "yellow",
}

#: Rows read before the terminal form decides its widths (and then prints them at once).
SAMPLE = 100
#: A text column asks for at most this many cells when the table is too wide; a longer value
#: is cut only when a less important column could not make room for it.
TEXT_CAP = 32
_GAP = "  "
_STATUS_KEYS = frozenset({"status", "state", "from_status", "to_status"})
_NUMERIC_KEYS = frozenset(
    {
        "id",
        "total",
        "unit_price",
        "line_total",
        "quantity",
        "stock",
        "stock_after",
        "order_id",
        "order_count",
        "total_spent",
        "items_count",
    }
)


def columns_of(spec: ColumnSpec) -> list[Column]:
    """`spec` as `Column`s; a (header, key) pair ranks by its position."""
    return [
        item if isinstance(item, Column) else Column(item[0], item[1], rank=n)
        for n, item in enumerate(spec, start=1)
    ]


def _leaf(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def is_numeric(key: str) -> bool:
    """Whether a column holds numbers (right-aligned, never cut)."""
    return _leaf(key) in _NUMERIC_KEYS


def is_time(key: str) -> bool:
    """Whether a column holds timestamps (`at`, `created_at`, …)."""
    leaf = _leaf(key)
    return leaf == "at" or leaf.endswith("_at")


def is_status(key: str) -> bool:
    """Whether a column's values are coloured through `STATUS_STYLES`."""
    return _leaf(key) in _STATUS_KEYS


def compact_time(value: str) -> str:
    """An ISO 8601 timestamp as a terminal shows it: `2026-11-30 14:05` (UTC)."""
    if len(value) < 16 or value[10] not in "T ":
        return value
    if value.endswith(("Z", "+00:00")) or len(value) in (16, 19):
        return f"{value[:10]} {value[11:16]}"
    try:  # another offset, or a fraction without one (not written by orderctl, but cheap)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M")


def cell_width(text: str) -> int:
    """The cells `text` takes on a terminal (wide characters take two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def cut(text: str, width: int) -> str:
    """`text` in at most `width` cells: cut with `…` when longer."""
    if cell_width(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if text.isascii():
        return text[: width - 1] + "…"
    from rich.cells import set_cell_size

    return set_cell_size(text, width - 1).rstrip() + "…"


def fit(columns: Sequence[Column], natural: Sequence[int], width: int) -> list[int | None]:
    """Each column's width on a terminal of `width` cells, None where it is dropped.

    A text column asks for its natural width up to `TEXT_CAP` (numbers and times ask for all
    of theirs, they are never cut); while the asks and the gaps exceed the width, the column
    with the highest rank is dropped (one column always stays). Room left over goes to the cut
    columns, most important first; the last column standing is cut to the width.
    """
    asks = [
        n if is_numeric(c.key) or is_time(c.key) else min(n, max(TEXT_CAP, len(c.header)))
        for c, n in zip(columns, natural, strict=True)
    ]
    shown = set(range(len(columns)))
    by_rank = sorted(shown, key=lambda i: (columns[i].rank, i))

    def used() -> int:
        return sum(asks[i] for i in shown) + len(_GAP) * (len(shown) - 1)

    while len(shown) > 1 and used() > width:
        shown.discard(by_rank.pop())
    widths: list[int | None] = [asks[i] if i in shown else None for i in range(len(columns))]
    room = width - used()
    for i in by_rank:
        if room <= 0:
            break
        grow = min(natural[i] - asks[i], room)
        if grow > 0:
            widths[i] = asks[i] + grow
            room -= grow
    if room < 0:  # one column wider than the terminal
        only = by_rank[0]
        widths[only] = max(width, 1)
    return widths


@dataclass
class _Layout:
    """How rows are written: which columns, how wide, how each cell is styled."""

    columns: list[Column]
    widths: list[int | None]  # None: dropped; -1: not padded (pipe)
    color: bool
    separator: str
    #: wide: the widths are a minimum, a longer cell is shown whole
    grow: bool = False

    def __post_init__(self) -> None:
        # Per column, once: a table of a million rows asks for each on every row.
        self._right = [is_numeric(c.key) for c in self.columns]
        self._status = [self.color and is_status(c.key) for c in self.columns]
        self._last = max((i for i, w in enumerate(self.widths) if w is not None), default=-1)

    def header(self) -> str:
        cells = [c.header for c in self.columns]
        line = self._join(cells, header=True)
        if self.color and self.separator == _GAP:
            from rich.style import Style

            return _render(Style.parse("bold"), line)
        return line

    def row(self, cells: Sequence[str]) -> str:
        return self._join(cells, header=False)

    def _join(self, cells: Sequence[str], *, header: bool) -> str:
        parts: list[str] = []
        last = self._last
        for i, text in enumerate(cells):
            width = self.widths[i]
            if width is None:
                continue
            if width >= 0:
                text = text if self.grow else cut(text, width)
                pad = " " * max(width - cell_width(text), 0)
                if self._right[i] and not header:
                    text = pad + text
                elif i != last:
                    text += pad
            if self._status[i] and not header:
                text = _styled(text)
            parts.append(text)
        line = self.separator.join(parts)
        # A padded line ends at its last character (a tab-separated one keeps its value whole).
        return line.rstrip(" ") if self.separator == _GAP else line


def _render(style: Any, text: str) -> str:
    from rich.color import ColorSystem

    rendered: str = style.render(text, color_system=ColorSystem.STANDARD)
    return rendered


@lru_cache(maxsize=1024)  # a few statuses, at a few paddings
def _styled(text: str) -> str:
    """`text` (a status cell, maybe padded) in its status's colour; padding stays plain."""
    value = text.strip()
    style = STATUS_STYLES.get(value)
    if style is None:
        return text
    from rich.style import Style

    start = text.index(value)
    return text[:start] + _render(Style.parse(style), value) + text[start + len(value) :]


def _cells(
    records: Iterable[BaseModel | dict[str, Any]], columns: Sequence[Column], *, compact: bool
) -> Iterator[list[str]]:
    formats: list[Callable[[str], str] | None] = [
        compact_time if compact and is_time(c.key) else None for c in columns
    ]
    for record in records:
        doc = document(record)
        row = []
        for column, shown in zip(columns, formats, strict=True):
            text = cell_string(lookup(doc, column.key))
            row.append(shown(text) if shown is not None and text else text)
        yield row


def terminal_width() -> int:
    """The width of the terminal on stdout (COLUMNS first, as `ls` does)."""
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


def write_table(
    records: Iterable[BaseModel | dict[str, Any]],
    spec: ColumnSpec,
    *,
    wide: bool,
    headers: bool = True,
    title: str | None = None,
) -> int:
    """Write records as a table in the form stdout calls for (see the module's help).

    Streams: at most `SAMPLE` rows are held. Returns the number of records."""
    columns = columns_of(spec)
    tty = sys.stdout.isatty()
    color = color_enabled(sys.stdout)
    rows = _cells(records, columns, compact=tty and not wide)
    if not tty:
        layout = _Layout(columns, [-1] * len(columns), color, separator="\t")
        return _write(layout, rows, [], headers=headers, title=None)
    sample = list(islice(rows, SAMPLE))
    layout = _terminal_layout(columns, sample, wide=wide, color=color, width=terminal_width())
    return _write(layout, rows, sample, headers=headers, title=title)


def _terminal_layout(
    columns: list[Column], sample: Sequence[Sequence[str]], *, wide: bool, color: bool, width: int
) -> _Layout:
    natural = [
        max([len(c.header), *(cell_width(row[i]) for row in sample)]) for i, c in enumerate(columns)
    ]
    widths: list[int | None] = list(natural) if wide else fit(columns, natural, width)
    return _Layout(columns, widths, color, separator=_GAP, grow=wide)


def table_lines(
    records: Iterable[dict[str, Any]], spec: ColumnSpec, *, width: int, color: bool
) -> list[str]:
    """A small table (the lines and history of `orders show`) as the lines the terminal form
    of `write_table` would print in `width` cells (with escape codes when `color`)."""
    columns = columns_of(spec)
    rows = list(_cells(records, columns, compact=sys.stdout.isatty()))
    layout = _terminal_layout(columns, rows, wide=False, color=color, width=width)
    return [layout.header(), *(layout.row(row) for row in rows)]


def _write(
    layout: _Layout,
    rows: Iterator[list[str]],
    sample: list[list[str]],
    *,
    headers: bool,
    title: str | None,
) -> int:
    write = sys.stdout.write
    count = 0
    for row in _chain(sample, rows):
        if count == 0:
            if title:
                write(title + "\n")
            if headers:
                write(layout.header() + "\n")
        write(layout.row(row) + "\n")
        count += 1
        if count == 1:
            sys.stdout.flush()  # the first line shows at once, before the next batch is read
    sys.stdout.flush()
    return count


def _chain(sample: list[list[str]], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    while sample:
        yield sample.pop(0)  # the sample's rows are let go as they are written
    yield from rest
