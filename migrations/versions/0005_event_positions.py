"""order_events.txid and a wake-up for followers (`orderctl events tail --follow`, DESIGN.md §16)

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-30

An event's id is taken when it is inserted, not when its transaction commits, so on
PostgreSQL two writers can commit out of id order. `txid` records the writing transaction
(`pg_current_xact_id()`, as a bigint): a follower hands out events in (txid, id) order and
only those whose transaction is older than every transaction still running, which cannot
change any more (docs/events.md). Rows written before this migration, and every row on
SQLite (one writer at a time: ids commit in order), hold 0, which counts as long committed.

PostgreSQL also gets a statement-level trigger that sends `NOTIFY orderctl_order_events` in
the writing transaction, so only a commit wakes a follower, once per statement (one per
COPY of a bulk import, not one per row).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The channel a follower LISTENs on (repositories/events.py says the same).
CHANNEL = "orderctl_order_events"
WRITER_XID = "pg_current_xact_id()::text::bigint"

NOTIFY_FUNCTION = f"""
CREATE FUNCTION orderctl_notify_order_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END
$$
"""

NOTIFY_TRIGGER = """
CREATE TRIGGER order_events_notify AFTER INSERT ON order_events
FOR EACH STATEMENT EXECUTE FUNCTION orderctl_notify_order_events()
"""


def upgrade() -> None:
    with op.batch_alter_table("order_events") as batch:
        batch.add_column(
            sa.Column("txid", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        batch.create_index("ix_order_events_txid_id", ["txid", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("order_events", "txid", server_default=sa.text(WRITER_XID))
        op.execute(NOTIFY_FUNCTION)
        op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER order_events_notify ON order_events")
        op.execute("DROP FUNCTION orderctl_notify_order_events()")
    with op.batch_alter_table("order_events") as batch:
        batch.drop_index("ix_order_events_txid_id")
        batch.drop_column("txid")
