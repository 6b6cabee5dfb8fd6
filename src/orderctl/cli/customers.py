"""`orderctl customers`: customers and what they spent (DESIGN.md §4)."""

from __future__ import annotations

from typing import Annotated

import typer

from orderctl.cli import completion as complete
from orderctl.cli.context import get_state
from orderctl.cli.options import Jq, NoHeaders, Output, json_option
from orderctl.cli.tables import Column
from orderctl.enums import OutputFormat

app = typer.Typer(help="Manage customers.", no_args_is_help=True)
CustomerJson = Annotated[str | None, json_option("orderctl.schemas:CustomerRead")]
CustomerDetailJson = Annotated[str | None, json_option("orderctl.schemas:CustomerDetail")]

#: Display order; `rank`: which stay longest on a narrow terminal (1 first).
COLUMNS = [
    Column("ID", "id", rank=1),
    Column("EMAIL", "email", rank=2),
    Column("NAME", "name", rank=3),
    Column("CREATED", "created_at", rank=4),
]

EmailArg = Annotated[
    str,
    typer.Argument(
        help="The customer's email.", show_default=False, autocompletion=complete.emails
    ),
]


@app.command("add")
def add(
    ctx: typer.Context,
    email: EmailArg,
    name: Annotated[
        str | None, typer.Option("--name", help="Customer name.", show_default=False)
    ] = None,
    output: Output = OutputFormat.TABLE,
    json_fields: CustomerJson = None,
    jq: Jq = None,
) -> None:
    """Add a customer (operator). The email is stored lower-cased and must be unique.

    Example: orderctl customers add ada@example.com --name "Ada Lovelace"
    """
    from orderctl.cli.render import render_one
    from orderctl.services import customers

    state = get_state(ctx)
    actor = state.actor()
    with state.uow() as uow:
        customer = customers.add_customer(uow, actor, {"email": email, "name": name})
    render_one(customer, output, json_fields=json_fields, jq=jq)


@app.command("list")
def list_customers(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10_000, help="At most this many customers.")
    ] = 30,
    all_: Annotated[
        bool, typer.Option("--all", help="Every customer (streamed page by page).")
    ] = False,
    after: Annotated[
        str | None,
        typer.Option(
            "--after",
            metavar="EMAIL",
            help="Start after this email (the last one of the previous page).",
            autocompletion=complete.emails,
            show_default=False,
        ),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            metavar="TEXT",
            help="Only customers whose email or name contains TEXT (any case; 3+ chars).",
            show_default=False,
        ),
    ] = None,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: CustomerJson = None,
    jq: Jq = None,
) -> None:
    """List customers ordered by email (keyset paging: pass the last email to --after).

    Example: orderctl customers list --limit 50 --after bob@example.com -o jsonl

    Example: orderctl customers list --search mateo
    """
    from orderctl.cli.render import render_list
    from orderctl.schemas import CustomerRead
    from orderctl.services import customers

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        rows = (
            customers.iter_customers(uow, actor, after=after, search=search)
            if all_
            else customers.list_customers(uow, actor, after=after, limit=limit, search=search)
        )
        render_list(
            rows,
            output,
            COLUMNS,
            empty="no customers",
            fields=CustomerRead,
            headers=not no_headers,
            json_fields=json_fields,
            jq=jq,
        )


@app.command("show")
def show(
    ctx: typer.Context,
    email: EmailArg,
    output: Output = OutputFormat.TABLE,
    json_fields: CustomerDetailJson = None,
    jq: Jq = None,
) -> None:
    """Show a customer with order_count (all orders) and total_spent (paid, shipped and
    delivered orders). Exit 5 when there is no such customer.

    Example: orderctl customers show ada@example.com -o json
    """
    from orderctl.cli.render import render_one
    from orderctl.services import customers

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        customer = customers.get_customer(uow, actor, email)
    render_one(customer, output, json_fields=json_fields, jq=jq)
