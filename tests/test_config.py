"""Configuration mistakes are named in one line before anything starts."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from cidery import config
from cidery.config import load_settings, log_level, normalise_url
from cidery.db import server
from cidery.errors import ConfigError, DatabaseUnavailable


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u@h:5433/db", "postgresql+psycopg://u@h:5433/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_urls_are_pinned_to_psycopg(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_a_foreign_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="must start with postgresql://"):
        normalise_url("mysql://u@h/db")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("u:pw-123@h/db", "got 'u:***@h/db'"),
        ("mysql://u:pw-123@h/db", "got 'mysql'"),
        ("host=h password=pw-123", "got a key=value connection string"),
        ("postgresql://u:pw-123@h:abc/db", "DATABASE_URL postgresql://u:***@h:abc/db has a port"),
        ("postgres://u:pw-123%@h/db", "postgres://u:***@h/db has a bad percent-encoding"),
    ],
)
def test_a_refused_url_is_named_without_its_password(url: str, shown: str) -> None:
    with pytest.raises(ConfigError) as refused:
        normalise_url(url)
    assert shown in str(refused.value)
    assert "pw-123" not in str(refused.value)


@pytest.mark.parametrize(
    ("value", "level"),
    [("", logging.WARNING), ("info", logging.INFO), (" DEBUG ", logging.DEBUG)],
)
def test_cidery_log_sets_the_log_level(
    monkeypatch: pytest.MonkeyPatch, value: str, level: int
) -> None:
    monkeypatch.setenv("CIDERY_LOG", value)
    assert log_level() == level


def test_an_unknown_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIDERY_LOG", "chatty")
    with pytest.raises(ConfigError, match="CIDERY_LOG='chatty' is not one of debug, info"):
        log_level()


@pytest.mark.parametrize("value", ["abc", "5 parsecs", "-1s", ""])
def test_a_bad_lock_timeout_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CIDERY_LOCK_TIMEOUT", value)
    if value == "":
        assert load_settings().lock_timeout == "5s"  # empty means the default
        return
    with pytest.raises(ConfigError, match="CIDERY_LOCK_TIMEOUT"):
        load_settings()


def test_good_durations_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIDERY_LOCK_TIMEOUT", "500ms")
    monkeypatch.setenv("CIDERY_STATEMENT_TIMEOUT", "2 min")
    settings = load_settings()
    assert (settings.lock_timeout, settings.statement_timeout) == ("500ms", "2min")


def test_the_app_database_url_is_normalised_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIDERY_APP_DATABASE_URL", raising=False)
    assert load_settings().app_database_url is None
    monkeypatch.setenv("CIDERY_APP_DATABASE_URL", " postgres://api:pw-123@h/db ")
    assert load_settings().app_database_url == "postgresql+psycopg://api:pw-123@h/db"
    monkeypatch.setenv("CIDERY_APP_DATABASE_URL", "postgres://api:pw-123@h:abc/db")
    with pytest.raises(ConfigError, match=r"^CIDERY_APP_DATABASE_URL postgres://api:") as refused:
        load_settings()
    assert "pw-123" not in str(refused.value)


def test_a_file_as_data_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not-a-dir"
    path.write_text("x")
    with pytest.raises(DatabaseUnavailable, match="is a file, not a directory"):
        server.start(path)


def test_a_non_empty_foreign_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("mine")
    with pytest.raises(DatabaseUnavailable, match="not a PostgreSQL data directory"):
        server.start(tmp_path / "data")


def test_the_labor_rate_has_a_documented_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIDERY_LABOR_RATE", raising=False)
    assert config.labor_rate() == config.DEFAULT_LABOR_RATE == Decimal("25.00")
    monkeypatch.setenv("CIDERY_LABOR_RATE", " 31.5 ")
    assert config.labor_rate() == Decimal("31.5")


@pytest.mark.parametrize("value", ["abc", "-1", "12.345", "NaN", "Infinity", "1000000"])
def test_a_bad_labor_rate_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CIDERY_LABOR_RATE", value)
    with pytest.raises(ConfigError, match="CIDERY_LABOR_RATE"):
        config.labor_rate()
