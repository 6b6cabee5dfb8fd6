"""`orderctl products`: the catalog (DESIGN.md §4)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from orderctl.cli import completion as complete
from orderctl.cli.context import get_state
from orderctl.cli.options import Jq, NoHeaders, Output, json_option, stdin_bytes
from orderctl.cli.tables import Column
from orderctl.enums import OutputFormat

app = typer.Typer(help="Manage the product catalog.", no_args_is_help=True)
ProductJson = Annotated[str | None, json_option("orderctl.schemas:ProductRead")]
ImportJson = Annotated[str | None, json_option("orderctl.services.products:ImportSummary")]
MovementJson = Annotated[str | None, json_option("orderctl.schemas:MovementRead")]

#: Display order; `rank`: which stay longest on a narrow terminal (1 first).
COLUMNS = [
    Column("SKU", "sku", rank=1),
    Column("NAME", "name", rank=2),
    Column("PRICE", "unit_price", rank=3),
    Column("STOCK", "stock", rank=4),
    Column("ACTIVE", "active", rank=5),
]

HISTORY_COLUMNS = [
    Column("AT", "at", rank=1),
    Column("REASON", "reason", rank=2),
    Column("QUANTITY", "quantity", rank=3),
    Column("STOCK", "stock_after", rank=4),
    Column("ORDER", "order_id", rank=5),
    Column("ACTOR", "actor", rank=6),
    Column("NOTE", "note", rank=7),
]

SkuArg = Annotated[
    str, typer.Argument(help="The product's SKU.", show_default=False, autocompletion=complete.skus)
]


def _price(value: str | None) -> str | None:
    """A --price value as text for the schema; text that is no plain number is exit 2."""
    if value is None:
        return None
    from orderctl.errors import UsageError
    from orderctl.services.products import price_text_problem

    problem = price_text_problem(value)
    if problem:
        raise UsageError(f"invalid value for --price: {problem}")
    return value.strip()


@app.command("add")
def add(
    ctx: typer.Context,
    sku: SkuArg,
    name: Annotated[str, typer.Option("--name", help="Product name.", show_default=False)],
    price: Annotated[
        str, typer.Option("--price", help="Unit price, e.g. 12.50.", show_default=False)
    ],
    stock: Annotated[
        int | None,
        typer.Option("--stock", help="Units in stock; leave out to not track stock."),
    ] = None,
    output: Output = OutputFormat.TABLE,
    json_fields: ProductJson = None,
    jq: Jq = None,
) -> None:
    """Add a product (admin). Without --stock its stock is not tracked.

    Example: orderctl products add MUG-01 --name "Stoneware mug" --price 12.50 --stock 100
    """
    from orderctl.cli.render import render_one
    from orderctl.services import products

    data = {"sku": sku, "name": name, "unit_price": _price(price), "stock": stock}
    state = get_state(ctx)
    actor = state.actor()
    with state.uow() as uow:
        product = products.add_product(uow, actor, data)
    render_one(product, output, json_fields=json_fields, jq=jq)


@app.command("list")
def list_products(
    ctx: typer.Context,
    all_: Annotated[
        bool, typer.Option("--all", help="Include inactive products.", show_default=False)
    ] = False,
    inactive: Annotated[
        bool, typer.Option("--inactive", help="Only inactive products.", show_default=False)
    ] = False,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: ProductJson = None,
    jq: Jq = None,
) -> None:
    """List products by SKU: active ones unless --all or --inactive is given.

    A blank STOCK (null in JSON) means stock is not tracked.

    Example: orderctl products list --all -o json
    """
    from orderctl.cli.render import render_list
    from orderctl.errors import UsageError
    from orderctl.schemas import ProductRead
    from orderctl.services import products

    if all_ and inactive:
        raise UsageError("--all and --inactive cannot be used together")
    active: bool | None = None if all_ else not inactive
    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        rows = products.list_products(uow, actor, active=active)
    render_list(
        rows,
        output,
        COLUMNS,
        empty="no products",
        fields=ProductRead,
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )


@app.command("show")
def show(
    ctx: typer.Context,
    sku: SkuArg,
    output: Output = OutputFormat.TABLE,
    json_fields: ProductJson = None,
    jq: Jq = None,
) -> None:
    """Show one product, active or not (exit 5 when there is no such SKU).

    Example: orderctl products show MUG-01 -o json
    """
    from orderctl.cli.render import render_one
    from orderctl.services import products

    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        product = products.get_product(uow, actor, sku)
    render_one(product, output, json_fields=json_fields, jq=jq)


@app.command("update")
def update(
    ctx: typer.Context,
    sku: SkuArg,
    name: Annotated[
        str | None, typer.Option("--name", help="New name.", show_default=False)
    ] = None,
    price: Annotated[
        str | None, typer.Option("--price", help="New unit price.", show_default=False)
    ] = None,
    stock: Annotated[
        int | None, typer.Option("--stock", help="New stock level.", show_default=False)
    ] = None,
    add_stock: Annotated[
        int | None,
        typer.Option(
            "--add-stock",
            help="Add N to the stock (negative: take away), atomically: for returns and "
            "corrections while orders come in.",
            show_default=False,
        ),
    ] = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Offer or withdraw it.", show_default=False),
    ] = None,
    output: Output = OutputFormat.TABLE,
    json_fields: ProductJson = None,
    jq: Jq = None,
) -> None:
    """Change a product (admin). Give at least one option; nothing given is a usage error (2).

    Existing orders keep the prices they were created with.

    Example: orderctl products update MUG-01 --price 13.00 --stock 80
    Example: orderctl products update MUG-01 --add-stock 2   (two returned mugs)
    """
    from orderctl.cli.render import render_one
    from orderctl.errors import UsageError
    from orderctl.services import products

    given: dict[str, Any] = {
        key: value
        for key, value in (
            ("name", name),
            ("unit_price", _price(price)),
            ("stock", stock),
            ("add_stock", add_stock),
            ("active", active),
        )
        if value is not None
    }
    if not given:
        raise UsageError(
            "nothing to update: give --name, --price, --stock, --add-stock or --active/--inactive"
        )
    if stock is not None and add_stock is not None:
        raise UsageError("give --stock (a new level) or --add-stock (a change), not both")
    state = get_state(ctx)
    actor = state.actor()
    with state.uow() as uow:
        product = products.update_product(uow, actor, sku, given)
    render_one(product, output, json_fields=json_fields, jq=jq)


@app.command("history")
def history(
    ctx: typer.Context,
    sku: SkuArg,
    limit: Annotated[
        int | None,
        typer.Option("--limit", help="At most N movements, newest first (default 30)."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every movement (no limit).")] = False,
    output: Output = OutputFormat.TABLE,
    no_headers: NoHeaders = False,
    json_fields: MovementJson = None,
    jq: Jq = None,
) -> None:
    """Show a product's stock movements (the ledger), newest first, with the stock after each.

    Reasons: set (--stock, recorded as the difference), adjust (--add-stock), reserve (an
    order created), release (an order cancelled or expired), correction (verify --fix).

    Example: orderctl products history MUG-01 --limit 10 -o json
    """
    from orderctl.cli.render import render_list
    from orderctl.errors import UsageError
    from orderctl.schemas import MovementRead
    from orderctl.services import stock

    if all_ and limit is not None:
        raise UsageError("--all and --limit cannot be used together")
    if not all_ and limit is None:
        limit = stock.DEFAULT_HISTORY_LIMIT
    state = get_state(ctx)
    actor = state.actor()
    with state.uow(replica=True) as uow:
        rows = stock.product_history(uow, actor, sku, limit=limit)
    render_list(
        rows,
        output,
        HISTORY_COLUMNS,
        empty="no stock movements",
        fields=MovementRead,
        headers=not no_headers,
        json_fields=json_fields,
        jq=jq,
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            help="CSV file with columns sku,name,unit_price,stock; `-` reads stdin.",
            show_default=False,
        ),
    ],
    output: Output = OutputFormat.TABLE,
    json_fields: ImportJson = None,
    jq: Jq = None,
) -> None:
    """Create or update products from a CSV file (admin), all or nothing.

    Columns sku,name,unit_price,stock (header required, any order); an empty stock cell means
    not tracked. Products are matched by SKU; an existing product gets the file's name, price
    and stock and keeps its active flag. Any bad row writes nothing (exit 6) and names the line.
    Prints a summary: created, updated, unchanged.

    Example: orderctl products import catalog.csv
    """

    from orderctl.cli.render import render_one
    from orderctl.errors import UsageError
    from orderctl.services import products

    state = get_state(ctx)
    actor = state.actor()
    if file == "-":
        name = "<stdin>"
        stream = stdin_bytes()
    else:
        name = file
        try:
            stream = open(file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        with state.uow() as uow:
            summary = products.import_products(uow, actor, stream, name)
    finally:
        if file != "-":
            stream.close()
    render_one(summary, output, json_fields=json_fields, jq=jq)
