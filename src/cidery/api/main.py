"""The app as uvicorn builds it in each worker process: settings from the environment.

``uvicorn --factory cidery.api.main:from_environment`` (what ``cidery serve`` runs):
each worker reads the settings itself, so several workers need nothing but the
environment they inherit.
"""

from __future__ import annotations

from fastapi import FastAPI

from cidery.api.app import create_app
from cidery.api.settings import from_environment as api_settings
from cidery.config import load_settings
from cidery.db.roles import app_database_url


def from_environment() -> FastAPI:
    settings = load_settings()
    return create_app(api_settings(app_database_url(settings), settings.lock_timeout))
