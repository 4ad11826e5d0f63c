"""The press workflow's figures, each stated once: the usual yield band, the page size,
the vessel status that receives juice.

The hard limit on yield (1.2 L/kg) is the database's CHECK and lives with the model
(:data:`cidery.models.pressing.MAX_EXTRACTION_RATE`).
"""

from __future__ import annotations

from decimal import Decimal

from cidery.enums import VesselStatus

# A normal run gives 0.40-0.85 L of juice per kg of fruit; outside that the run is
# accepted but flagged (yield_outliers, and a warning when it is completed).
YIELD_LOW = Decimal("0.40")
YIELD_HIGH = Decimal("0.85")
YIELD_BAND = f"{YIELD_LOW}-{YIELD_HIGH} L/kg"
# The warning of a completed run outside the band (``{rate}`` in L/kg); the pages show
# the same words in their live preview.
YIELD_WARNING = (
    "yield {rate} L/kg is outside the usual " + YIELD_BAND + ": "
    "check the weights' units and the juice volume"
)

# The status in which a vessel may receive a run's juice: complete_run refuses any other,
# and the vessel list calls a vessel "available" in it.
RECEIVES_JUICE = VesselStatus.AVAILABLE

# The most runs one page of list_runs returns.
MAX_PAGE = 200

# The largest amount a numeric(10,3) column holds: a run's total kilograms or litres.
MAX_AMOUNT = Decimal("9999999.999")

# A run's juice goes to at most this many vessels: its lots are lettered A to Z.
MAX_ASSIGNMENTS = 26

# The mass balance of a completed run whose pomace was weighed: the fruit's kilograms
# should be about the juice's (a litre of apple juice weighs about 1.05 kg) plus the
# pomace's. Off by more than the tolerance (a share of the fruit's kg), the run is
# accepted with a warning, as an unusual yield is: juice left in the press, a pomace
# weighed wet or a weight in the wrong unit are worth a look, not a refusal.
JUICE_KG_PER_L = Decimal("1.05")
MASS_BALANCE_TOLERANCE = Decimal("0.10")
MASS_BALANCE_WARNING = (
    "mass balance: {fruit_kg} kg of fruit, but {juice_kg} kg of juice ({juice_l} L at "
    + str(JUICE_KG_PER_L)
    + " kg/L) and {pomace_kg} kg of pomace make {accounted_kg} kg, more than "
    + f"{MASS_BALANCE_TOLERANCE:.0%}"
    + " apart: check the weights, the juice volume and the pomace"
)
