"""The complete-run form: the juice, and the vessel or vessels it goes to.

One row per vessel, ``vessel_id_<i>`` and ``volume_<i>`` (in the juice's own unit),
and ``vessels``, how many rows the form shows. A single row without a volume sends
all the juice there (the service's one-vessel shortcut); otherwise every row is an
assignment of :class:`~cidery.press.schemas.PressRunComplete`. "Add vessel" and
"Remove" post the form back with a row more or fewer, so splitting works without
scripts; the page's script adds and removes rows in place and keeps "Left to assign"
current as the operator types.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cidery.press.rules import MAX_ASSIGNMENTS

# The run's own fields, as the service names them.
FIELDS = (
    "juice_volume",
    "juice_volume_unit",
    "labor_hours",
    "worker_count",
    "pomace_weight",
    "pomace_unit",
)
ROWS_FIELD = "vessels"


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@dataclass(frozen=True)
class Row:
    """One vessel of the form, as typed."""

    vessel_id: str = ""
    volume: str = ""


@dataclass(frozen=True)
class CompleteForm:
    values: dict[str, str]
    rows: tuple[Row, ...]

    @classmethod
    def read(
        cls, form: dict[str, str], *, add: bool = False, remove: int | None = None
    ) -> CompleteForm:
        """The form as posted; ``add`` a row, or ``remove`` the row of that index."""
        values = {name: form.get(name, "").strip() for name in FIELDS if form.get(name, "").strip()}
        values.setdefault("juice_volume_unit", "L")
        values.setdefault("pomace_unit", "kg")
        try:
            count = int(form.get(ROWS_FIELD, "1"))
        except ValueError:
            count = 1
        count = min(max(count, 1), MAX_ASSIGNMENTS)
        rows = [
            Row(form.get(f"vessel_id_{i}", "").strip(), form.get(f"volume_{i}", "").strip())
            for i in range(count)
        ]
        if add and len(rows) < MAX_ASSIGNMENTS:
            rows.append(Row())
        if remove is not None and 0 <= remove < len(rows) and len(rows) > 1:
            del rows[remove]
        return cls(values, tuple(rows))

    @property
    def can_add(self) -> bool:
        return len(self.rows) < MAX_ASSIGNMENTS

    @property
    def single(self) -> bool:
        """All the juice into one vessel: one row, its volume left empty."""
        return len(self.rows) == 1 and not self.rows[0].volume

    def data(self) -> dict[str, Any]:
        """The body of :class:`~cidery.press.schemas.PressRunComplete`."""
        data: dict[str, Any] = {
            name: value for name, value in self.values.items() if name != "pomace_unit"
        }
        if "pomace_weight" in data:
            data["pomace_unit"] = self.values["pomace_unit"]
        if self.single:
            if self.rows[0].vessel_id:
                data["vessel_id"] = self.rows[0].vessel_id
            return data
        data["assignments"] = [
            {
                "vessel_id": row.vessel_id or None,
                "volume": row.volume or None,
                "volume_unit": self.values["juice_volume_unit"],
            }
            for row in self.rows
        ]
        return data

    def left(self) -> Decimal | None:
        """The juice not yet assigned to a vessel, in the juice's unit (None: cannot tell,
        or all of it goes to the one vessel)."""
        juice = _amount(self.values.get("juice_volume", ""))
        if juice is None or self.single:
            return None
        given = [_amount(row.volume) for row in self.rows if row.volume]
        if any(volume is None for volume in given):
            return None
        return juice - sum((volume for volume in given if volume is not None), Decimal(0))

    def fields(self) -> list[tuple[str, str]]:
        """Every field as posted, for the confirmation form to send again."""
        fields = list(self.values.items())
        fields.append((ROWS_FIELD, str(len(self.rows))))
        for i, row in enumerate(self.rows):
            fields.extend(((f"vessel_id_{i}", row.vessel_id), (f"volume_{i}", row.volume)))
        return fields
