"""`orderctl maintenance`: jobs for cron (DESIGN.md §8; docs/maintenance.md).

Every job: admin only, `--dry-run`, `--quiet` (nothing on success), `-o json` (one summary
object on stdout), otherwise a one-line summary on stderr; a second concurrent run exits 75.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orderctl.cli.confirm import Yes, confirm, counted
from orderctl.cli.context import get_state
from orderctl.cli.fields import printed_format
from orderctl.cli.options import Jq, Output, json_option
from orderctl.enums import OrderStatus, OutputFormat

if TYPE_CHECKING:
    from pydantic import BaseModel

    from orderctl.services.verify import VerifySummary

app = typer.Typer(
    help="Maintenance jobs for cron: expire, purge, verify (see `maintenance crontab`).",
    no_args_is_help=True,
)

_SUMMARIES = "orderctl.services.maintenance"
ExpireJson = Annotated[str | None, json_option(f"{_SUMMARIES}:ExpireSummary")]
PurgeTokensJson = Annotated[str | None, json_option(f"{_SUMMARIES}:PurgeTokensSummary")]
PurgeOrdersJson = Annotated[str | None, json_option(f"{_SUMMARIES}:PurgeOrdersSummary")]
VerifyJson = Annotated[str | None, json_option("orderctl.services.verify:VerifySummary")]
BatchSize = Annotated[
    int,
    typer.Option("--batch-size", help="Rows per transaction (1..10000).", show_default=True),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Report what would be done; change nothing.")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")]


def _duration(text: str, option: str) -> timedelta:
    """Parse a duration option before anything else runs (a usage error, exit 2)."""
    from orderctl.durations import parse_duration
    from orderctl.errors import UsageError

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _report(
    summary: BaseModel,
    output: OutputFormat,
    quiet: bool,
    human: str,
    *,
    json_fields: str | None,
    jq: str | None,
) -> None:
    from orderctl.cli.render import message, render_one

    if quiet:
        return
    if printed_format(output, json_fields, jq).tabular:
        message(human)
    else:
        render_one(summary, output, json_fields=json_fields, jq=jq)


def _ago(older_than: str, cutoff: Any) -> str:
    return f"older than {older_than} (before {cutoff:%Y-%m-%dT%H:%M:%SZ})"


def _batches(n: int, seconds: float) -> str:
    return f"{n} batch{'es' if n != 1 else ''}, {seconds:.2f} s"


@app.command("expire-pending")
def expire_pending(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than", help="Age measured from created_at, e.g. 72h.", show_default=False
        ),
    ],
    batch_size: BatchSize = 1000,
    dry_run: DryRun = False,
    quiet: Quiet = False,
    output: Output = OutputFormat.TABLE,
    json_fields: ExpireJson = None,
    jq: Jq = None,
) -> None:
    """Cancel pending orders older than a duration and give their stock back.

    Each order gets a history event (pending -> cancelled, reason "expired").

    Example: orderctl maintenance expire-pending --older-than 72h --quiet
    """
    age = _duration(older_than, "--older-than")
    from orderctl.services import maintenance

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(write=not dry_run) as uow:
        s = maintenance.expire_pending(
            uow, actor, older_than=age, batch_size=batch_size, dry_run=dry_run
        )
    verb = "dry run: would expire" if dry_run else "expired"
    _report(
        s,
        output,
        quiet,
        f"{verb} {s.orders} pending order(s) {_ago(older_than, s.cutoff)}, "
        f"{'would restock' if dry_run else 'restocked'} {s.units_restocked} unit(s) "
        f"({_batches(s.batches, s.seconds)})",
        json_fields=json_fields,
        jq=jq,
    )


@app.command("purge-tokens")
def purge_tokens(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="Grace period after a token expired or was revoked.",
            show_default=True,
        ),
    ] = "30d",
    batch_size: BatchSize = 1000,
    dry_run: DryRun = False,
    quiet: Quiet = False,
    output: Output = OutputFormat.TABLE,
    json_fields: PurgeTokensJson = None,
    jq: Jq = None,
) -> None:
    """Delete API tokens that expired or were revoked more than a grace period ago.

    Example: orderctl maintenance purge-tokens --older-than 30d --dry-run
    """
    age = _duration(older_than, "--older-than")
    from orderctl.services import maintenance

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(write=not dry_run) as uow:
        s = maintenance.purge_tokens(
            uow, actor, older_than=age, batch_size=batch_size, dry_run=dry_run
        )
    verb = "dry run: would delete" if dry_run else "deleted"
    _report(
        s,
        output,
        quiet,
        f"{verb} {s.tokens} token(s) expired or revoked {_ago(older_than, s.cutoff)} "
        f"({_batches(s.batches, s.seconds)})",
        json_fields=json_fields,
        jq=jq,
    )


@app.command("purge-orders")
def purge_orders(
    ctx: typer.Context,
    status: Annotated[
        OrderStatus,
        typer.Option(
            "--status",
            help="A final status: cancelled or refunded.",
            case_sensitive=False,
            show_default=False,
        ),
    ],
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="Age measured from updated_at (the last status change), e.g. 365d.",
            show_default=False,
        ),
    ],
    batch_size: BatchSize = 1000,
    dry_run: DryRun = False,
    yes: Yes = False,
    quiet: Quiet = False,
    output: Output = OutputFormat.TABLE,
    json_fields: PurgeOrdersJson = None,
    jq: Jq = None,
) -> None:
    """Delete old orders in a final status, with their items and history.

    Says first how many orders, lines and events it will delete and asks [y/N]; --yes for
    cron (`maintenance crontab` writes it), --dry-run to only count.

    Example: orderctl maintenance purge-orders --status cancelled --older-than 365d --yes
    """
    age = _duration(older_than, "--older-than")
    from orderctl.services import maintenance

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(write=False) as uow:
        plan = maintenance.purge_orders(
            uow, actor, status=status, older_than=age, batch_size=batch_size, dry_run=True
        )
    if dry_run:
        s = plan
    else:
        if plan.orders:
            confirm(
                f"will delete {counted(plan.orders, f'{status.value} order')} "
                f"({counted(plan.items, 'line')}, {counted(plan.events, 'event')}) "
                f"last changed before {plan.cutoff:%Y-%m-%dT%H:%M:%SZ}",
                yes=yes,
                command="maintenance purge-orders",
                quiet=quiet,
            )
        with state.uow() as uow:
            s = maintenance.purge_orders(
                uow,
                actor,
                status=status,
                older_than=age,
                batch_size=batch_size,
                cutoff=plan.cutoff,
            )
    verb = "dry run: would delete" if dry_run else "deleted"
    _report(
        s,
        output,
        quiet,
        f"{verb} {s.orders} {status.value} order(s) {_ago(older_than, s.cutoff)} "
        f"with {s.items} item(s) and {s.events} event(s) ({_batches(s.batches, s.seconds)})",
        json_fields=json_fields,
        jq=jq,
    )


@app.command("verify")
def verify(
    ctx: typer.Context,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Repair what can be: recompute wrong totals, append correction movements, "
            "clear cancelled orders' reservations (asks first; recorded in history).",
        ),
    ] = False,
    yes: Yes = False,
    batch_size: BatchSize = 1000,
    dry_run: DryRun = False,
    quiet: Quiet = False,
    output: Output = OutputFormat.TABLE,
    json_fields: VerifyJson = None,
    jq: Jq = None,
) -> None:
    """Check totals, stock and references; list each problem; exit 6 if any remain.

    Checks: order total = sum of line totals, line total = quantity x unit price, every order
    has items; for every tracked product stock = sum of its ledger (`products history`) and
    never negative; no cancelled order still holds a reservation; no items or events without
    their order. --fix first says what it will change and asks (--yes for scripts).

    Example: orderctl maintenance verify --fix --yes -o jsonl
    """
    from orderctl.services.verify import fix_plan, verify

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(write=False) as uow:
        s = verify(uow, actor, fix=fix, batch_size=batch_size, dry_run=True)
    plan = fix_plan(s) if fix and not dry_run else []
    if plan:
        confirm(
            f"verify --fix will {'; '.join(plan)}",
            yes=yes,
            command="maintenance verify --fix",
            quiet=quiet,
        )
        with state.uow() as uow:
            s = verify(uow, actor, fix=True, batch_size=batch_size)
    else:
        s = s.model_copy(update={"dry_run": dry_run})
    _report_verify(s, output, quiet, json_fields, jq)


def _report_verify(
    s: VerifySummary, output: OutputFormat, quiet: bool, json_fields: str | None, jq: str | None
) -> None:
    from orderctl.cli.render import message, render_list, render_one
    from orderctl.errors import RuleViolation

    if json_fields is not None or jq is not None:
        output = OutputFormat.JSON  # the summary document, its problems inside
    if s.problems or not quiet:
        if output is OutputFormat.JSON:
            render_one(s, output, json_fields=json_fields, jq=jq)
        elif s.problems:
            render_list(
                s.problems,
                output,
                [
                    ("PROBLEM", "problem"),
                    ("ORDER", "order_id"),
                    ("SKU", "sku"),
                    ("EXPECTED", "expected"),
                    ("FOUND", "found"),
                    ("FIXED", "fixed"),
                    ("DETAIL", "detail"),
                ],
            )
    summary = (
        f"{'dry run: ' if s.dry_run else ''}checked {s.orders_checked} order(s): "
        f"{s.found} problem(s), {s.fixed} fixed, {s.remaining} remaining ({s.seconds:.2f} s)"
    )
    if s.remaining:
        raise RuleViolation(summary)
    if not quiet and output is not OutputFormat.JSON:
        message(summary)


@app.command("crontab")
def crontab(
    env_file: Annotated[
        str,
        typer.Option(
            "--env-file",
            help="Root-only file holding ORDERCTL_TOKEN and ORDERCTL_DATABASE_URL.",
        ),
    ] = "/etc/orderctl/cron.env",
) -> None:
    """Print suggested crontab lines for the maintenance jobs (needs no token or database).

    Example: orderctl maintenance crontab | sudo tee /etc/cron.d/orderctl
    """
    import shlex

    from orderctl.cli.render import write_text

    exe = shlex.join(_executable())
    env = shlex.quote(env_file)
    run = f"set -a && . {env} && set +a && {exe} maintenance"
    jobs = [
        ("17 * * * *", "expire-pending --older-than 72h --quiet"),
        ("23 3 * * *", "purge-tokens --older-than 30d --quiet"),
        ("41 3 * * *", "verify --quiet"),
        # --yes: a destructive job asks first, and cron has no terminal to answer on.
        ("53 3 * * 0", "purge-orders --status cancelled --older-than 365d --yes --quiet"),
    ]
    lines = [
        "# orderctl maintenance jobs (from `orderctl maintenance crontab`), for /etc/cron.d/.",
        f"# {env_file} (install -m 600 -o root; a root-only file) holds:",
        "#   ORDERCTL_TOKEN=oct_...  # orderctl auth token create --name cron --expires 365d",
        "#   ORDERCTL_DATABASE_URL=postgresql://orderctl@db.example/shop",
        "# Each job locks itself (a second run exits 75); no flock(1) needed. With --quiet",
        "# cron mails output only when a job fails or verify finds problems (exit 6).",
        "# purge-orders deletes data and asks first; cron has no terminal to answer on, so",
        "# its line carries --yes (without it the job refuses, exit 2, and deletes nothing).",
        "SHELL=/bin/sh",
        "PATH=/usr/bin:/bin",
    ]
    lines += [f"{when} root {run} {job}" for when, job in jobs]
    write_text("\n".join(lines) + "\n")


def _executable() -> list[str]:
    """The absolute command that runs this orderctl."""
    import shutil
    import sys
    from pathlib import Path

    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "orderctl" and argv0.exists():
        return [str(argv0.resolve())]
    found = shutil.which("orderctl")
    if found:
        return [str(Path(found).resolve())]
    return [str(Path(sys.executable).resolve()), "-m", "orderctl"]
