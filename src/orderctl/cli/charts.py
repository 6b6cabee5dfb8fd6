"""Reports on a terminal: a table with a bar per row, and a chart of the sales series.

Drawn with Rich alone (no plotting library; docs/reports.md says why). Everything here
measures the width it is given, so a report fits the terminal: the bars take what the other
columns leave, and the chart's columns are periods (several periods per column when the
series is longer than the terminal is wide). In a pipe and in json/jsonl/csv, reports go
through `render.render_list` like every other listing: plain rows, no bar, no chart.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from orderctl.cli.render import Columns, cell_text, render_list, stdout_console
from orderctl.enums import OutputFormat
from orderctl.report_rows import ReportRow, document, field_names, values

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

#: Lower eighths of a cell, from empty to full: a chart column rises in steps of 1/8 cell.
_EIGHTHS = " ▁▂▃▄▅▆▇█"
CHART_HEIGHT = 8
CHART_HEIGHT_LARGE = 20


@dataclass(frozen=True)
class Series:
    """One currency's values over the periods, for a chart."""

    title: str
    labels: Sequence[str]
    values: Sequence[Decimal]


def on_terminal(output: OutputFormat) -> bool:
    """Whether a report is drawn for a person (`-o table` on a terminal): bars and charts."""
    return output is OutputFormat.TABLE and sys.stdout.isatty()


def render_report(
    rows: Sequence[ReportRow],
    output: OutputFormat,
    columns: Columns,
    *,
    bar: str,
    fields: type[ReportRow],
    empty: str,
    extra: Sequence[Any] = (),
    headers: bool = True,
    json_fields: str | None = None,
    jq: str | None = None,
) -> None:
    """Print report rows: on a terminal a table with a bar of `bar` per row (scaled within
    each currency: amounts of two currencies are never compared), then the `extra`
    renderables (charts); elsewhere, and with `--json`/`--jq`, through `render_list` as the
    rows' JSON documents (`fields`: the row type, whose fields head an empty CSV)."""
    if not on_terminal(output) or json_fields is not None or jq is not None:
        render_list(
            (document(row) for row in rows),
            output,
            columns,
            empty=empty,
            fields=field_names(fields),
            headers=headers,
            json_fields=json_fields,
            jq=jq,
        )
        return
    from orderctl.cli.render import message

    if not rows:
        message(empty)
        return
    console = stdout_console()
    console.print(bar_table([values(r) for r in rows], columns, bar))
    for renderable in extra:
        console.print(renderable)


#: Text columns that give up width first (cut with `…`) when a report is wider than the
#: terminal; numbers are never cut.
_FLEXIBLE = {"name", "email", "sku"}
_BAR_MIN = 8


class BarTable:
    """A table of `docs` with a last column holding a bar of each row's `bar` value, relative
    to the largest in the row's currency; laid out for the width Rich offers."""

    def __init__(self, docs: Sequence[dict[str, Any]], columns: Columns, bar: str) -> None:
        from orderctl.cli.tables import columns_of

        self.docs, self.bar = docs, bar
        self.columns = [(column.header, column.key) for column in columns_of(columns)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(options.max_width)

    def table(self, width: int) -> Any:
        from rich.bar import Bar
        from rich.table import Table

        docs, bar = self.docs, self.bar
        largest: dict[str, float] = {}
        for doc in docs:
            key = doc.get("currency", "")
            largest[key] = max(largest.get(key, 0.0), float(doc[bar] or 0))
        cells = [[cell_text(_shown(doc[key])) for _, key in self.columns] for doc in docs]
        widths = [
            max([len(header), *(len(row[n]) for row in cells)])
            for n, (header, _) in enumerate(self.columns)
        ]
        # Each column costs its padding and rule: 3 characters (the bar column too).
        excess = sum(widths) + 3 * (len(widths) + 1) + _BAR_MIN - width
        for n in sorted(range(len(widths)), key=lambda n: -widths[n]):
            if excess > 0 and self.columns[n][1] in _FLEXIBLE:
                cut = min(excess, widths[n] - 5)
                if cut > 0:
                    widths[n] -= cut
                    excess -= cut
        table = Table(show_edge=False, header_style="bold")
        for n, (header, key) in enumerate(self.columns):
            numeric = bool(docs) and isinstance(docs[0].get(key), int | Decimal)
            table.add_column(
                header,
                justify="right" if numeric else "left",
                no_wrap=True,
                overflow="ellipsis",
                min_width=widths[n] if key not in _FLEXIBLE else None,
                max_width=widths[n],
            )
        table.add_column("", min_width=4)
        for doc, row in zip(docs, cells, strict=True):
            size = largest[doc.get("currency", "")] or 1.0
            table.add_row(*row, Bar(size, 0, float(doc[bar] or 0), color="cyan"))
        return table


def bar_table(docs: Sequence[dict[str, Any]], columns: Columns, bar: str) -> BarTable:
    """`BarTable(docs, columns, bar)`: a report's rows with a bar each."""
    return BarTable(docs, columns, bar)


def _shown(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return getattr(value, "value", value)


class SeriesChart:
    """A column chart of one series in the width Rich offers: the y axis labelled with the
    top value and 0, the x axis with the first and last period."""

    def __init__(self, series: Series, *, height: int = CHART_HEIGHT) -> None:
        self.series = series
        self.height = height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        yield from (Text(line, no_wrap=True) for line in self.lines(options.max_width))

    def lines(self, width: int) -> list[str]:
        """The chart as plain lines of at most `width` characters."""
        values = [float(v) for v in self.series.values]
        labels = self.series.labels
        top = max(values, default=0.0)
        top_label, zero_label = f"{top:,.2f}", "0"
        axis = max(len(top_label), len(zero_label))
        room = max(width - axis - 2, 1)
        group = math.ceil(len(values) / room) if values else 1
        columns = [sum(values[i : i + group]) for i in range(0, len(values), group)]
        if group > 1:
            top = max(columns, default=0.0)
            top_label = f"{top:,.2f}"
            axis = max(len(top_label), len(zero_label))
            room = max(width - axis - 2, 1)
        step = max(1, min(room // max(len(columns), 1), 3))
        unit = f", {group} periods per column" if group > 1 else ""
        lines = [self.series.title + unit][: 1 if width >= 10 else 0]
        lines = [line[:width] for line in lines]
        eighths = [round(8 * self.height * v / top) if top > 0 else 0 for v in columns]
        for row in range(self.height, 0, -1):
            label = top_label if row == self.height else (zero_label if row == 1 else "")
            cells = "".join(_cell(e - 8 * (row - 1)) * step for e in eighths)
            lines.append(f"{label:>{axis}} │{cells}"[:width])
        plot = len(columns) * step
        lines.append(f"{'':>{axis}} └{'─' * plot}"[:width])
        first, last = (labels[0], labels[-1]) if labels else ("", "")
        gap = plot - len(first) - len(last)
        footer = f"{first}{' ' * gap}{last}" if gap >= 1 else first
        lines.append(f"{'':>{axis}}  {footer}"[:width])
        return lines


def _cell(eighths: int) -> str:
    return _EIGHTHS[max(0, min(8, eighths))]


def charts(series: Sequence[Series], *, large: bool) -> list[SeriesChart]:
    """One chart per series (currency), `CHART_HEIGHT_LARGE` rows high when `large`."""
    height = CHART_HEIGHT_LARGE if large else CHART_HEIGHT
    return [SeriesChart(s, height=height) for s in series]


def series_of(
    docs: Sequence[dict[str, Any]], value: str, label: Callable[[Any], str], title: str
) -> Iterator[Series]:
    """The series of `value` per currency in `docs` (rows ordered by period)."""
    for currency in sorted({doc["currency"] for doc in docs}):
        mine = [doc for doc in docs if doc["currency"] == currency]
        yield Series(
            title.format(currency=currency),
            [label(doc) for doc in mine],
            [Decimal(doc[value]) for doc in mine],
        )
