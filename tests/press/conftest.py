"""Fixtures of the press-run tests."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from tests.factories import Factory, new_actor
from tests.press.support import World


@pytest.fixture
def make(session: Session) -> Factory:
    return Factory(session)


@pytest.fixture
def w(session: Session, make: Factory) -> World:
    """A grower, a variety and a purchase line of 1000 kg of it, and an actor who may
    press: a module needing another world overrides this fixture."""
    vendor = make.vendor()
    variety = make.variety()
    item = make.purchase_item(vendor=vendor, variety=variety, quantity=Decimal("1000"))
    return World(session, make, new_actor(session), vendor, variety, item)
