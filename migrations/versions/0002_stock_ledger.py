"""stock ledger: stock_movements, order_items.reserved

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Upgrading changes no product's stock and leaves `maintenance verify` clean (DESIGN.md §13):

- `order_items.reserved` is backfilled with what the 0001 code took from stock: the quantity
  of each line of an order made by `orders create` (its first event is `created`) on a product
  that tracks stock, unless the order is cancelled (cancelling gave it back). Paid, shipped,
  delivered and refunded orders keep theirs: a refund does not restock. Imported orders
  reserved nothing (0).
- Each tracked product gets one opening `set` movement equal to its current stock, so the
  ledger's sum is the stock from the first day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPENING_NOTE = "opening balance (migration 0002)"
OPENING_ACTOR = "migration"

BACKFILL_RESERVED = """
UPDATE order_items SET reserved = quantity
WHERE product_id IN (SELECT id FROM products WHERE stock IS NOT NULL)
  AND order_id IN (
    SELECT o.id FROM orders o
    WHERE o.status <> 'cancelled'
      AND (SELECT e.action FROM order_events e WHERE e.order_id = o.id
           ORDER BY e.id LIMIT 1) = 'created'
  )
"""

OPENING_BALANCES = """
INSERT INTO stock_movements (product_id, quantity, reason, order_id, actor, note, at)
SELECT id, stock, 'set', NULL, :actor, :note, :at
FROM products WHERE stock IS NOT NULL AND stock <> 0
ORDER BY id
"""


def upgrade() -> None:
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity <> 0", name=op.f("ck_stock_movements_quantity_not_zero")),
        sa.CheckConstraint(
            "reason IN ('set', 'adjust', 'reserve', 'release', 'correction')",
            name=op.f("ck_stock_movements_reason_known"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_stock_movements_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stock_movements_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    op.create_index(
        op.f("ix_stock_movements_order_id"), "stock_movements", ["order_id"], unique=False
    )
    op.create_index(
        "ix_stock_movements_product_id_id", "stock_movements", ["product_id", "id"], unique=False
    )
    with op.batch_alter_table("order_items") as batch:
        batch.add_column(
            sa.Column("reserved", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_order_items_reserved_within_quantity"),
            "reserved >= 0 AND reserved <= quantity",
        )

    bind = op.get_bind()
    bind.execute(sa.text(BACKFILL_RESERVED))
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # orderctl stores naive UTC text on SQLite
    bind.execute(
        sa.text(OPENING_BALANCES).bindparams(sa.bindparam("at", type_=sa.DateTime(timezone=True))),
        {"actor": OPENING_ACTOR, "note": OPENING_NOTE, "at": now},
    )


def downgrade() -> None:
    with op.batch_alter_table("order_items") as batch:
        batch.drop_constraint(op.f("ck_order_items_reserved_within_quantity"), type_="check")
        batch.drop_column("reserved")
    op.drop_index("ix_stock_movements_product_id_id", table_name="stock_movements")
    op.drop_index(op.f("ix_stock_movements_order_id"), table_name="stock_movements")
    op.drop_table("stock_movements")
