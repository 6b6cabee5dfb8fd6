"""`orderctl import`: batch imports (DESIGN.md §7; formats in docs/import.md)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated

import typer

from orderctl.cli.context import get_state
from orderctl.cli.fields import printed_format
from orderctl.cli.options import Jq, Output, json_option, stdin_bytes
from orderctl.enums import OutputFormat

app = typer.Typer(help="Batch imports.", no_args_is_help=True)
ImportJson = Annotated[str | None, json_option("orderctl.services.imports:ImportSummary")]

#: How many rejected orders are named on stderr before the rest are only counted.
MAX_REJECT_MESSAGES = 20


class ImportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class OnError(StrEnum):
    ABORT = "abort"
    SKIP = "skip"


class Preset(StrEnum):
    SHOPIFY = "shopify"


def _open_input(file: str) -> IO[bytes]:
    from orderctl.errors import UsageError

    if file == "-":
        return stdin_bytes()
    try:
        return Path(file).open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {file!r}: {exc.strerror or exc}") from None


def _open_rejects(path: str, source: str) -> IO[bytes]:
    from orderctl.errors import UsageError

    target = Path(path)
    if source != "-" and target.exists() and target.resolve() == Path(source).resolve():
        raise UsageError("--rejects must not be the file being imported")
    try:
        return target.open("wb")
    except OSError as exc:
        raise UsageError(f"cannot write rejects file {path!r}: {exc.strerror or exc}") from None


@app.command("orders")
def import_orders(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="A .csv, .jsonl or .ndjson file; - for stdin.")
    ],
    fmt: Annotated[
        ImportFormat | None,
        typer.Option(
            "--format",
            help="csv or jsonl (required for stdin or another extension).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and look up everything, write nothing.")
    ] = False,
    on_error: Annotated[
        OnError,
        typer.Option(
            "--on-error",
            help="abort: nothing is imported if any order is invalid; skip: import the valid "
            "ones in batches and reject the rest.",
            case_sensitive=False,
        ),
    ] = OnError.ABORT,
    rejects: Annotated[
        str | None,
        typer.Option(
            "--rejects",
            metavar="FILE",
            help="With --on-error skip: write rejected orders here (original rows + error).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, max=50_000, help="Orders per batch (transaction)."),
    ] = 1000,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="No progress bar on stderr.")
    ] = False,
    preset: Annotated[
        Preset | None,
        typer.Option(
            "--preset",
            help="Read another tool's export: shopify (Shopify's orders CSV; implies csv).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="COLUMN=FIELD",
            help="Read FIELD (an import column) from the file's COLUMN; repeatable.",
            show_default=False,
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter",
            metavar="CHAR",
            help="CSV delimiter: , ; | or tab (default: detected from the header).",
            show_default=False,
        ),
    ] = None,
    output: Output = OutputFormat.TABLE,
    json_fields: ImportJson = None,
    jq: Jq = None,
) -> None:
    """Import orders from CSV (one row per order line) or JSONL (one order per line).

    Orders whose external_ref already exists are skipped, so a file can be imported again
    (e.g. after an interrupted run). Exit 0 when everything was imported or skipped, 6 when
    any order was rejected.

    Example: orderctl import orders shop-export.csv --on-error skip --rejects rejects.csv

    Example: orderctl import orders shopify-orders.csv --preset shopify
    """
    from orderctl.cli.render import RowProgress, message, render_one, stderr_table, warning
    from orderctl.errors import RuleViolation, UsageError
    from orderctl.services import imports
    from orderctl.services.import_reader import (
        RawOrder,
        RejectsWriter,
        csv_layout,
        format_for,
        read_orders,
    )

    try:
        given = fmt.value if fmt is not None else None
        kind = format_for(file, given, fallback="csv" if preset is not None else None)
        layout = csv_layout(kind, preset, maps or [], delimiter)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if rejects is not None and on_error is not OnError.SKIP:
        raise UsageError("--rejects needs --on-error skip (abort mode imports nothing)")
    state = get_state(ctx)
    actor = state.actor()
    source = "stdin" if file == "-" else Path(file).name
    stream = _open_input(file)
    reject_stream = _open_rejects(rejects, file) if rejects is not None else None
    reject_file = RejectsWriter(reject_stream, kind) if reject_stream is not None else None
    shown = 0

    def on_reject(order: RawOrder, reason: str) -> None:
        nonlocal shown
        shown += 1
        if shown <= MAX_REJECT_MESSAGES:
            warning(f"rejected: {reason}")
        elif shown == MAX_REJECT_MESSAGES + 1:
            warning(
                "more orders rejected; see the summary"
                + (" and the rejects file" if rejects else "")
            )
        if reject_file is not None:
            reject_file.write(order, reason)

    show = sys.stderr.isatty() and not no_progress
    try:
        header, orders = read_orders(stream, kind, warn=warning, layout=layout)
        if reject_file is not None and header is not None:
            reject_file.header(header)
        with RowProgress("importing", enabled=show) as progress, state.uow() as uow:
            summary = imports.import_orders(
                uow,
                actor,
                orders,
                is_csv=kind == "csv",
                source=source,
                default_currency=state.settings().currency,
                on_error=on_error.value,
                batch_size=batch_size,
                dry_run=dry_run,
                on_reject=on_reject,
                on_progress=progress.update,
                keep_rows=reject_file is not None,
            )
    finally:
        if reject_file is not None:
            reject_file.close()
        if reject_stream is not None:
            reject_stream.close()
        if file != "-":
            stream.close()
    if printed_format(output, json_fields, jq).tabular:
        title = "import (dry run: nothing written)" if dry_run else "import"
        stderr_table(
            ("", "orders", "lines"),
            [
                (
                    "imported" if not dry_run else "would import",
                    summary.imported,
                    summary.imported_lines,
                ),
                ("skipped (already present)", summary.skipped, summary.skipped_lines),
                ("rejected", summary.rejected, summary.rejected_lines),
            ],
            title=title,
        )
        message(f"{summary.seconds:.2f} s, {summary.lines_per_second:,.0f} lines/s")
    else:
        render_one(summary, output, json_fields=json_fields, jq=jq)
    if summary.rejected:
        where = f"; see {rejects}" if rejects else ""
        raise RuleViolation(
            f"{summary.rejected} order(s) ({summary.rejected_lines} line(s)) rejected{where}"
        )
