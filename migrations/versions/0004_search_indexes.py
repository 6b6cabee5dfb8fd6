"""search indexes: `orders list --search/--sku`, `customers list --search`

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

Case-insensitive substring search of customers' emails and names and of orders' external
refs, and the orders having a product (DESIGN.md §12, docs/orders.md *Finding orders*):

- PostgreSQL: the `pg_trgm` extension (trusted: a database owner may create it) and GIN
  trigram indexes on customers.email, customers.name and orders.external_ref, which serve
  `ILIKE '%text%'`. Downgrading drops the indexes and leaves the extension: it holds no data,
  and other schemas of the database may use it.
- SQLite: FTS5 tables with the `trigram` tokenizer (SQLite ≥ 3.34), external content (they
  store the index only, ~the size of the indexed text), kept by triggers on every insert,
  delete and update of the indexed columns, and filled from the existing rows here.
  `customers_search(email, name)` and `orders_search(external_ref)`, whose rowid is the
  customer's or order's id; orders without a ref are not indexed.
- Both: order_items(product_id, order_id) replaces the index on product_id alone (which it
  serves as well): `--sku` reads the orders of a product from the index only.

SQLite drops a table's triggers with the table: a later migration that rebuilds `customers` or
`orders` (a batch `alter_table` that moves and copies) must create these triggers again.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = (
    ("ix_customers_email_trgm", "customers", "email"),
    ("ix_customers_name_trgm", "customers", "name"),
    ("ix_orders_external_ref_trgm", "orders", "external_ref"),
)

SQLITE_UP = [
    """CREATE VIRTUAL TABLE customers_search USING fts5(
        email, name, content='customers', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN
        INSERT INTO customers_search (rowid, email, name) VALUES (new.id, new.email, new.name);
    END""",
    """CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
        INSERT INTO customers_search (customers_search, rowid, email, name)
        VALUES ('delete', old.id, old.email, old.name);
    END""",
    """CREATE TRIGGER customers_search_update AFTER UPDATE OF email, name ON customers BEGIN
        INSERT INTO customers_search (customers_search, rowid, email, name)
        VALUES ('delete', old.id, old.email, old.name);
        INSERT INTO customers_search (rowid, email, name) VALUES (new.id, new.email, new.name);
    END""",
    "INSERT INTO customers_search (customers_search) VALUES ('rebuild')",
    """CREATE VIRTUAL TABLE orders_search USING fts5(
        external_ref, content='orders', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER orders_search_insert AFTER INSERT ON orders
    WHEN new.external_ref IS NOT NULL BEGIN
        INSERT INTO orders_search (rowid, external_ref) VALUES (new.id, new.external_ref);
    END""",
    """CREATE TRIGGER orders_search_delete AFTER DELETE ON orders
    WHEN old.external_ref IS NOT NULL BEGIN
        INSERT INTO orders_search (orders_search, rowid, external_ref)
        VALUES ('delete', old.id, old.external_ref);
    END""",
    """CREATE TRIGGER orders_search_update AFTER UPDATE OF external_ref ON orders BEGIN
        INSERT INTO orders_search (orders_search, rowid, external_ref)
        SELECT 'delete', old.id, old.external_ref WHERE old.external_ref IS NOT NULL;
        INSERT INTO orders_search (rowid, external_ref)
        SELECT new.id, new.external_ref WHERE new.external_ref IS NOT NULL;
    END""",
    # 'rebuild' would index every order, NULL refs included: only those with a ref.
    """INSERT INTO orders_search (rowid, external_ref)
    SELECT id, external_ref FROM orders WHERE external_ref IS NOT NULL""",
]

SQLITE_DOWN = [
    "DROP TRIGGER orders_search_update",
    "DROP TRIGGER orders_search_delete",
    "DROP TRIGGER orders_search_insert",
    "DROP TABLE orders_search",
    "DROP TRIGGER customers_search_update",
    "DROP TRIGGER customers_search_delete",
    "DROP TRIGGER customers_search_insert",
    "DROP TABLE customers_search",
]


def upgrade() -> None:
    op.create_index("ix_order_items_product_id_order_id", "order_items", ["product_id", "order_id"])
    op.drop_index("ix_order_items_product_id", table_name="order_items")
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in TRIGRAM_INDEXES:
        op.create_index(
            name,
            table,
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        for name, table, _ in TRIGRAM_INDEXES:
            op.drop_index(name, table_name=table)
    op.create_index("ix_order_items_product_id", "order_items", ["product_id"])
    op.drop_index("ix_order_items_product_id_order_id", table_name="order_items")
