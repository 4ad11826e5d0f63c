"""What every command needs, built on first use: settings, the URL, an engine.

SQLAlchemy, the driver and Alembic are imported by the property that needs them, so
a command that never touches the database does not load them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from cidery.config import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from cidery.migrations.scripts import Timeouts


@dataclass
class Runtime:
    settings: Settings = field(default_factory=load_settings)

    @cached_property
    def url(self) -> str:
        from cidery.db.server import resolve_url

        return resolve_url(self.settings)

    @cached_property
    def engine(self) -> Engine:
        from cidery.db.engine import check_connection, make_engine

        engine = make_engine(self.url)
        check_connection(engine)
        return engine

    @property
    def timeouts(self) -> Timeouts:
        from cidery.migrations.scripts import Timeouts

        return Timeouts(
            lock_timeout=self.settings.lock_timeout,
            statement_timeout=self.settings.statement_timeout,
        )
