"""Fixtures of the press-run tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import Factory


@pytest.fixture
def make(session: Session) -> Factory:
    return Factory(session)
