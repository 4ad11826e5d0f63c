"""Alembic environment: runs each revision in its own transaction.

The connection (online) or the URL (offline) is handed in through ``config.attributes``
(:func:`cidery.migrations.scripts.make_config`); this module never reads settings itself,
so every entry point shares one way of choosing a database.

Each applied revision records the checksum of its file
(:mod:`cidery.migrations.bookkeeping`), online and in the offline SQL alike. Autogenerate
compares as ``cidery db check`` does (:mod:`cidery.migrations.comparison`), enum labels
included. A run that only applies revisions says so (``compare`` of
:func:`cidery.migrations.scripts.make_config`), and the models, which only a comparison
needs and which take longer to import than an empty database takes to migrate, are not
loaded.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from cidery.migrations import bookkeeping, comparison

config = context.config

_COMMON: dict[str, Any] = {
    # One transaction per revision: a failing revision rolls back alone and
    # SET LOCAL timeouts apply to exactly one revision.
    "transaction_per_migration": True,
    # Record (upgrade) or forget (downgrade) each revision's checksum, inside
    # the revision's transaction and in the offline SQL; then whatever the caller
    # wants to hear about each step (the runner logs it).
    "on_version_apply": [bookkeeping.record, *config.attributes.get("on_version_apply", ())],
}
if config.attributes.get("compare", True):
    from cidery.models import Base

    _COMMON.update(comparison.autogenerate_options(Base.metadata))


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
    with comparison.computed_columns_unwarned(), context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
