from decimal import Decimal

from cidery.models.enums import Unit
from tests.press.conftest import Factory


def test_factory_builds_a_load_with_canonical_weight(make: Factory) -> None:
    item = make.purchase_item()
    load = make.load(make.run(), item, weight=Decimal("100"), unit=Unit.LB)
    assert load.weight_kg == Decimal("45.359")
