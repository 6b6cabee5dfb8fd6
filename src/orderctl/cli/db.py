"""`orderctl db`: schema migrations (DESIGN.md §10), and copying a whole database (§14).
Works on an empty database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypedDict

import typer

from orderctl.cli.confirm import Yes, confirm, counted
from orderctl.cli.context import get_state
from orderctl.cli.options import Jq, NoHeaders, Output, json_option
from orderctl.enums import OutputFormat

if TYPE_CHECKING:
    from orderctl.services.schema import DowngradePlan

app = typer.Typer(help="Migrate the database schema, or copy the database.", no_args_is_help=True)


class Revision(TypedDict):
    """The document of `db current`."""

    database: str
    current: str | None
    head: str
    up_to_date: bool
    behind: bool


RevisionJson = Annotated[str | None, json_option("orderctl.cli.db:Revision")]
MigrationJson = Annotated[str | None, json_option("orderctl.services.schema:Migration")]


def _describe(before: str | None, after: str | None) -> str:
    if before == after:
        return f"database already at revision {after or 'base (empty)'}"
    return f"migrated {before or 'base'} -> {after or 'base'}"


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the schema (default: to the latest revision).

    Example: orderctl db upgrade
    """
    from orderctl.cli.render import message
    from orderctl.services import schema

    before, after = schema.upgrade(get_state(ctx).database(), revision)
    message(_describe(before, after))


# ignore_unknown_options: `db downgrade -1` is a relative revision, not an unknown flag.
@app.command("downgrade", context_settings={"ignore_unknown_options": True})
def downgrade(
    ctx: typer.Context,
    revision: Annotated[
        str,
        typer.Argument(
            help="Target revision: an id, -1 for one step down, or base (drops everything)."
        ),
    ],
    yes: Yes = False,
) -> None:
    """Downgrade the schema to REVISION, dropping the data of what it removes.

    Says first what it drops, with row counts, and asks [y/N] (--yes for scripts). On a
    database that has users it needs the login of one of its admins.

    Example: orderctl db downgrade base --yes
    """
    from orderctl.cli.render import message
    from orderctl.services import schema

    state = get_state(ctx)
    plan = schema.plan_downgrade(state.database(), revision)
    schema.authorize_downgrade(plan, state.logged_in(migrated=False) if plan.needs_admin else None)
    if plan.needs_confirmation:
        confirm(_downgrade_plan(plan), yes=yes, command="db downgrade")
    before, after = schema.downgrade(state.database(), plan.target_arg)
    message(_describe(before, after))


def _downgrade_plan(plan: DowngradePlan) -> str:
    """`will downgrade shop.db from 0001 to base: drops 7 tables holding 79,858 orders, …`."""
    parts = []
    for kind, dropped in (("table", plan.dropped_tables), ("column", plan.dropped_columns)):
        if 0 < len(dropped) <= 3:  # few: name each one
            named = ", ".join(
                f"{name} ({counted(n, 'row') if n else 'empty'})" for name, n in dropped.items()
            )
            parts.append(f"drops {kind}{'s' if len(dropped) > 1 else ''} {named}")
        elif dropped:
            held = ", ".join(f"{n:,} {name}" for name, n in dropped.items() if n)
            contents = f"holding {held}" if held else "(all empty)"
            parts.append(f"drops {counted(len(dropped), kind)} {contents}")
    return f"will downgrade {plan.database} from {plan.current} to {plan.target or 'base'}: " + (
        "; ".join(parts) or "drops no table or column"
    )


@app.command("current")
def current(
    ctx: typer.Context,
    output: Output = OutputFormat.TABLE,
    json_fields: RevisionJson = None,
    jq: Jq = None,
) -> None:
    """Print the database's revision and the one this orderctl needs; says on stderr when
    the database is behind (exit 0 all the same: `db check` is the test for scripts).

    Example: orderctl db current -o json
    """
    from orderctl.cli.render import render_one, warning
    from orderctl.db import SCHEMA_REVISION
    from orderctl.services import schema

    db = get_state(ctx).database()
    rev = schema.current(db)
    problem = db.schema_problem(rev)
    doc: Revision = {
        "database": db.display_url,
        "current": rev,
        "head": SCHEMA_REVISION,
        "up_to_date": problem is None,
        "behind": problem is not None,
    }
    render_one(dict(doc), output, json_fields=json_fields, jq=jq)
    if problem is not None:
        warning(problem)


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Exit 0 when the database is reachable and at the revision this orderctl needs, else 7
    with what to run (for deploy scripts and health checks). Needs no login.

    Example: orderctl db check || orderctl db upgrade
    """
    from orderctl.cli.render import message
    from orderctl.db import SCHEMA_REVISION

    db = get_state(ctx).database()
    db.check_schema()
    message(f"database {db.display_url} is at revision {SCHEMA_REVISION}, the latest")


@app.command("history")
def history(
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: MigrationJson = None,
    jq: Jq = None,
) -> None:
    """List the migrations, newest first.

    Example: orderctl db history
    """
    from orderctl.cli.render import render_list
    from orderctl.services import schema

    render_list(
        map(dict, schema.history()),
        output,
        [("REVISION", "revision"), ("DOWN", "down_revision"), ("MESSAGE", "message")],
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )


COPY_COLUMNS = [
    ("TABLE", "table"),
    ("SOURCE ROWS", "source_rows"),
    ("TARGET ROWS", "target_rows"),
    ("SOURCE CHECKSUM", "source_checksum"),
    ("TARGET CHECKSUM", "target_checksum"),
    ("MATCH", "match"),
]


@app.command("copy")
def copy(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="URL",
            help="The target: an empty database (sqlite:///PATH or postgresql://...).",
        ),
    ],
    output: Output = OutputFormat.TABLE,
) -> None:
    """Copy the whole database (users, tokens, catalog, customers, orders, history, stock
    ledger) into an empty database, keeping ids and times, then compare row counts and a
    checksum of every table on both sides. Needs an admin of the source.

    The target is migrated first when it has no schema; one that holds data is refused.
    A copy that is interrupted leaves the target empty: run it again.

    Example: orderctl db copy --to postgresql://orderctl@db.example.com/shop
    """
    import sys

    from orderctl.cli.render import message, render_list
    from orderctl.db import SCHEMA_REVISION
    from orderctl.errors import OrderctlError
    from orderctl.services import db_copy

    state = get_state(ctx)
    actor = state.actor()
    source = state.ready_database()
    target = db_copy.open_target(source, to)
    progress = sys.stderr.isatty()
    try:
        report = db_copy.copy_database(
            source,
            actor,
            target,
            on_table=(lambda name: message(f"copying {name}...")) if progress else None,
        )
    finally:
        target.dispose()
    rows = [{**vars(check), "match": "yes" if check.match else "NO"} for check in report.tables]
    render_list(rows, output, COPY_COLUMNS, fields=[name for _, name in COPY_COLUMNS])
    migrated = ""
    if report.migrated_from != SCHEMA_REVISION:
        migrated = f" (its schema migrated from {report.migrated_from or 'nothing'})"
    if not report.ok:
        differ = ", ".join(check.table for check in report.tables if not check.match)
        raise OrderctlError(
            f"copied to {report.target}, but the two sides differ in: {differ}; "
            "do not use the target"
        )
    message(
        f"copied {counted(report.rows, 'row')} in {counted(len(report.tables), 'table')} "
        f"from {report.source} to {report.target}{migrated}; row counts and checksums match"
    )
