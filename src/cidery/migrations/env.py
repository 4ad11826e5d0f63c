"""Alembic environment: runs each revision in its own transaction.

The connection (online) or the URL (offline) is handed in by
:func:`cidery.migrations.scripts.make_config` through ``config.attributes``; this module never reads
settings itself, so every entry point shares one way of choosing a database.

Each applied revision records the checksum of its file
(:mod:`cidery.migrations.bookkeeping`), online and in the offline SQL alike; autogenerate
leaves that bookkeeping table alone and also compares enum labels
(:mod:`cidery.migrations.authoring.enum_values`).
"""

from __future__ import annotations

import warnings
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from cidery.migrations import bookkeeping
from cidery.migrations.authoring import enum_values
from cidery.models import Base

config = context.config

# Alembic cannot compare generated-column expressions (PostgreSQL rewrites
# them) and warns on every autogenerate; that is not a difference.
warnings.filterwarnings("ignore", message="Computed default on")
target_metadata = Base.metadata

_COMMON: dict[str, Any] = {
    "target_metadata": target_metadata,
    "compare_type": True,
    "compare_server_default": True,
    # One transaction per revision: a failing revision rolls back alone and
    # SET LOCAL timeouts apply to exactly one revision.
    "transaction_per_migration": True,
    # Record (upgrade) or forget (downgrade) each revision's checksum, inside
    # the revision's transaction and in the offline SQL.
    "on_version_apply": [bookkeeping.record],
    # Autogenerate: the checksum table is bookkeeping, not a model ...
    "include_name": bookkeeping.include_name,
    # ... and enum labels are compared too (Alembic's own comparators do not).
    "autogenerate_plugins": ["alembic.autogenerate.*", enum_values.PLUGIN],
}


def run_offline() -> None:
    context.configure(
        url=config.attributes.get("url", "postgresql+psycopg://"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_COMMON,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection: Connection = config.attributes["connection"]
    context.configure(connection=connection, **_COMMON)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
