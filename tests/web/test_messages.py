"""What the pages say about a refused form: in the form's words, not the API's."""

from __future__ import annotations

import uuid
from decimal import Decimal

from cidery.press.errors import InsufficientFruit, InvalidInput, VesselUnavailable
from cidery.web.messages import LABELS, explain, field_errors, in_labels


def test_field_names_are_written_as_the_labels() -> None:
    refused = InvalidInput.of("tare_weight", "must be less than gross_weight (300)")
    assert explain(refused) == "Tare: must be less than gross (300)"
    assert field_errors(refused) == {"tare_weight": "Must be less than gross (300)"}


def test_only_whole_field_names_are_replaced() -> None:
    assert in_labels("weight_unit and weight_units and my_vessel_id") == (
        "weight unit and weight_units and my_vessel_id"
    )
    assert all(label and label == label.lower() for label in LABELS.values())


def test_a_refusal_with_a_template_keeps_its_figures() -> None:
    refused = InsufficientFruit(uuid.uuid4(), Decimal("500.000"), Decimal("120.500"))
    assert explain(refused) == "Only 120.5 kg left on this line"


def test_a_vessel_in_use_reads_in_words() -> None:
    refused = VesselUnavailable(
        "vessel 'Tank_3' is in use",
        vessel_id=str(uuid.uuid4()),
        vessel_name="Tank_3",
        status="in_use",
        status_in_words="in use",
    )
    assert explain(refused) == "Tank_3 is in use: choose an available vessel"
