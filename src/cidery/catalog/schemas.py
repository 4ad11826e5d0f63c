"""Types of the catalog: the filters the forms and reports send, and what they read back.

The filters are :class:`~cidery.press.schemas.InputModel`\\ s, refused whole with every
problem listed (:class:`~cidery.press.errors.InvalidInput`); the results are
:class:`~cidery.press.schemas.ReadModel`\\ s, read from rows.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
)

from cidery.models.enums import AuditOperation, VesselStatus, VesselType
from cidery.press.schemas import (
    FruitWriteOffRead,
    InputModel,
    Moment,
    PageSize,
    ReadModel,
    not_a_boolean,
    storable_text,
)

# How many growers list_vendors returns unless asked for fewer (at most a page, 200):
# a grower picker, not an export.
MAX_VENDORS = 200

SearchText = Annotated[str, Field(max_length=200), AfterValidator(storable_text)]
# A PostgreSQL identifier is at most 63 bytes; audit_logs.table_name holds no more.
TableName = Annotated[str, Field(min_length=1, max_length=63), AfterValidator(storable_text)]
Cursor = Annotated[str, Field(max_length=200)]

# A season is a harvest year: the runs completed in it, by the calendar year of their end
# time in UTC. The end, because a run's juice is measured and its juice lots start when it
# ends (a lot's start date is its run's end); UTC, so that the API and the command line
# answer alike wherever they run. A harvest does not straddle the new year, so the zone
# only decides a run completed within hours of midnight on 31 December.
FIRST_SEASON = 1900
LAST_SEASON = 2100
Season = Annotated[
    int,
    Field(
        ge=FIRST_SEASON,
        le=LAST_SEASON,
        description="A harvest year: runs completed (their end time) in that calendar year, "
        "in UTC.",
    ),
    BeforeValidator(not_a_boolean),
]


def season_range(season: int) -> tuple[datetime, datetime]:
    """The runs of a season are those that ended in ``[since, until)``: 1 January of the
    season, UTC, to 1 January of the next."""
    return datetime(season, 1, 1, tzinfo=UTC), datetime(season + 1, 1, 1, tzinfo=UTC)


class VendorFilter(InputModel):
    """Which growers :func:`cidery.catalog.list_vendors` returns."""

    active: bool | None = Field(
        default=True, description="Active growers only (the default), inactive only, or all."
    )
    q: SearchText | None = Field(
        default=None, description="Part of the name, any case; % and _ match themselves."
    )
    limit: PageSize = MAX_VENDORS


class VesselFilter(InputModel):
    """Which vessels :func:`cidery.catalog.list_vessels` returns."""

    available: bool | None = Field(
        default=None,
        description="Vessels that may receive a run's juice, those that may not, or all.",
    )


class YieldGrouping(enum.StrEnum):
    """What the yield report sums per row."""

    VARIETY = "variety"
    VENDOR = "vendor"


class YieldQuery(InputModel):
    """Completed runs ended in ``[since, until)``, or in a season, summed per variety or
    per grower."""

    group_by: YieldGrouping = YieldGrouping.VARIETY
    since: Moment | None = Field(default=None, description="Runs completed at or after.")
    until: Moment | None = Field(default=None, description="Runs completed before.")
    season: Season | None = Field(
        default=None,
        description="Runs completed in this harvest year (the calendar year of their end "
        "time, UTC); instead of since and until.",
    )

    @field_validator("until")
    @classmethod
    def _after_since(cls, until: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if until is not None and since is not None and since > until:
            raise ValueError(f"must not be before since ({since.isoformat()})")
        return until

    @field_validator("season")
    @classmethod
    def _not_with_a_range(cls, season: int | None, info: ValidationInfo) -> int | None:
        if season is not None and (info.data.get("since") or info.data.get("until")):
            raise ValueError("give a season or since/until, not both")
        return season

    def ended(self) -> tuple[datetime | None, datetime | None]:
        """The ``[since, until)`` the runs ended in: the season's, or the one given."""
        if self.season is not None:
            return season_range(self.season)
        return self.since, self.until


class LotQuery(InputModel):
    """Which juice lots :func:`cidery.catalog.lot_costs` lists."""

    season: Season | None = Field(
        default=None,
        description="Lots of the runs completed in this harvest year (the calendar year of "
        "the run's end time, UTC); every lot without it.",
    )

    def ended(self) -> tuple[datetime | None, datetime | None]:
        """The ``[since, until)`` the lots' runs ended in (None: unbounded)."""
        return season_range(self.season) if self.season is not None else (None, None)


class AuditQuery(InputModel):
    """Which audit rows :func:`cidery.catalog.list_audit_logs` returns, a page at a time."""

    table: TableName | None = Field(default=None, description="Rows of this table only.")
    record_id: uuid.UUID | None = Field(default=None, description="Rows of this record only.")
    limit: PageSize = 50
    after: Cursor | None = Field(default=None, description="The next_cursor of the previous page.")


class ReconciliationQuery(InputModel):
    """Which purchase lines :func:`cidery.catalog.fruit_reconciliation` accounts for."""

    vendor_id: uuid.UUID | None = Field(default=None, description="One grower's lines only.")
    season: Season | None = Field(
        default=None, description="Lines bought in this year only (the harvest season)."
    )


class VendorRead(ReadModel):
    """A grower, with the fruit it still has to press."""

    id: uuid.UUID
    name: str
    is_active: bool
    fruit_left_kg: Decimal = Field(
        description="Kilograms bought and neither pressed nor written off, over its live "
        "purchase lines."
    )


class VarietyRead(ReadModel):
    """A live apple variety."""

    id: uuid.UUID
    name: str
    description: str | None
    typical_brix: Decimal | None


class VesselRead(ReadModel):
    """A live vessel, and whether a run's juice may go into it."""

    id: uuid.UUID
    name: str
    type: VesselType
    status: VesselStatus
    capacity_l: Decimal
    location: str | None
    available: bool = Field(description="Whether complete_run accepts it as the destination.")


class YieldRow(ReadModel):
    """Completed runs' fruit and juice for one variety or one grower."""

    group_id: uuid.UUID
    name: str
    run_count: int
    kg_pressed: Decimal
    juice_l: Decimal = Field(
        description="Litres of juice; by variety, each run's juice shared by the weight of "
        "its loads of each variety."
    )
    yield_l_per_kg: Decimal | None


class LineReconciliation(ReadModel):
    """Where the fruit of one purchase line went: bought = pressed + written off + left."""

    purchase_item_id: uuid.UUID
    purchase_id: uuid.UUID
    vendor_id: uuid.UUID
    vendor_name: str
    apple_variety_id: uuid.UUID
    variety_name: str
    purchase_date: date
    bought_kg: Decimal
    pressed_kg: Decimal = Field(
        description="Drawn by the live loads of runs neither cancelled nor deleted."
    )
    written_off_kg: Decimal = Field(description="Written off as waste (write_offs).")
    left_kg: Decimal = Field(description="Bought, less pressed, less written off.")
    write_offs: list[FruitWriteOffRead] = Field(
        description="The line's write-offs with their reasons, oldest first."
    )


class LotCostRow(ReadModel):
    """A juice lot: the run whose juice filled it, its litres and what they cost.

    A cost that is not known (a purchase line without a price, labor without hours, or
    no cost worked out yet) is null and the lot is not ``complete``: never a zero."""

    batch_id: uuid.UUID
    batch_number: str
    vessel_id: uuid.UUID | None
    vessel_name: str | None
    press_run_id: uuid.UUID
    vendor_id: uuid.UUID
    vendor_name: str
    start_date: date
    litres: Decimal = Field(description="Litres of the run's juice the lot received.")
    total_apple_cost: Decimal | None
    labor_cost: Decimal | None
    total_cost: Decimal | None
    cost_per_l: Decimal | None
    complete: bool = Field(description="Whether the total and the cost per litre are known.")


class AuditLogRead(ReadModel):
    """One change to a record, as the audit log keeps it; one field per column."""

    id: uuid.UUID
    table_name: str
    record_id: uuid.UUID
    operation: AuditOperation
    old_data: dict[str, Any] | None
    new_data: dict[str, Any] | None
    diff: dict[str, Any] | None
    reason: str | None
    changed_by: uuid.UUID | None
    changed_at: datetime


class AuditPage(ReadModel):
    """One page of the audit log, newest first; pass ``next_cursor`` as ``after``."""

    items: list[AuditLogRead]
    next_cursor: str | None


EXPORTED: tuple[type[BaseModel], ...] = (
    VendorFilter,
    VesselFilter,
    YieldQuery,
    ReconciliationQuery,
    LotQuery,
    AuditQuery,
    VendorRead,
    VarietyRead,
    VesselRead,
    YieldRow,
    LineReconciliation,
    LotCostRow,
    AuditLogRead,
    AuditPage,
)
