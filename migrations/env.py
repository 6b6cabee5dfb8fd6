"""Alembic environment: runs on the engine orderctl passes in (SQLite in batch mode)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from orderctl.tables import metadata, schema_filters

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    assert isinstance(engine, Engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            **schema_filters(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
