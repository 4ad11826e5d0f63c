"""Fixtures of the catalog tests: the row factory, an operator to press with, an admin."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cidery import press
from cidery.models.enums import UserRole
from tests.factories import Factory, new_actor


@pytest.fixture
def make(session: Session) -> Factory:
    return Factory(session)


@pytest.fixture
def operator(session: Session) -> press.Actor:
    return new_actor(session, UserRole.OPERATOR)


@pytest.fixture
def admin(session: Session) -> press.Actor:
    return new_actor(session, UserRole.ADMIN)


@pytest.fixture
def viewer(session: Session) -> press.Actor:
    return new_actor(session, UserRole.VIEWER)
