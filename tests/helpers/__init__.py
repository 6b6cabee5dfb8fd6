"""Plain helpers shared by the tests (fixtures live in conftest.py): `from helpers import X`.

Grouped by topic in the modules below; everything a test needs is named here, so no test file
imports another and no test imports conftest.
"""

from helpers.api import Api, add_product, detail, order_body
from helpers.cli import (
    PASSWORD,
    Cli,
    auth_status,
    create_token,
    create_user,
    import_orders,
    login,
    one_error,
    walk_commands,
)
from helpers.data import (
    ORDER_CSV_HEADER,
    ORDER_CSV_ROW,
    SEED_EMAILS,
    SEED_START,
    Shop,
    ago,
    order_counts,
    seed_orders,
    seed_products,
    write_file,
)
from helpers.database import (
    TOKEN_BOOKKEEPING,
    HeldCommitUow,
    StoredToken,
    child_pids,
    count_statements,
    database_snapshot,
    hold_row,
    rows,
    snapshot_column,
    stock_ledger,
    tokens_in_db,
    unreachable_url,
)
from helpers.terminal import ORDERCTL, TerminalRun, run_on_terminal

__all__ = [
    "ORDERCTL",
    "ORDER_CSV_HEADER",
    "ORDER_CSV_ROW",
    "PASSWORD",
    "SEED_EMAILS",
    "SEED_START",
    "TOKEN_BOOKKEEPING",
    "Api",
    "Cli",
    "HeldCommitUow",
    "Shop",
    "StoredToken",
    "TerminalRun",
    "add_product",
    "ago",
    "auth_status",
    "child_pids",
    "count_statements",
    "create_token",
    "create_user",
    "database_snapshot",
    "detail",
    "hold_row",
    "import_orders",
    "login",
    "one_error",
    "order_body",
    "order_counts",
    "rows",
    "run_on_terminal",
    "seed_orders",
    "seed_products",
    "snapshot_column",
    "stock_ledger",
    "tokens_in_db",
    "unreachable_url",
    "walk_commands",
    "write_file",
]
