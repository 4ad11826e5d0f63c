"""What every command needs, built on first use: settings, the URL, an engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from cidery.config import Settings, load_settings
from cidery.db.engine import check_connection, make_engine, resolve_url
from cidery.migrations.scripts import Timeouts


@dataclass
class Runtime:
    settings: Settings = field(default_factory=load_settings)

    @cached_property
    def url(self) -> str:
        return resolve_url(self.settings)

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.url)
        self.server_version = check_connection(engine)
        return engine

    @property
    def timeouts(self) -> Timeouts:
        return Timeouts(
            lock_timeout=self.settings.lock_timeout,
            statement_timeout=self.settings.statement_timeout,
        )

    server_version: str = ""
