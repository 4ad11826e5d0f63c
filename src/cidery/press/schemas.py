"""Types for the press-run API: what the app sends (``*Create``, ``*Complete``, filters) and reads.

Amounts are ``Decimal`` end to end (JSON: a number or a numeric string), never
float, so an entered 12.345 stays 12.345. The value and unit as entered travel
with the canonical kilograms or litres computed by :mod:`cidery.units`.

The input types refuse what PostgreSQL cannot store, so nothing a client sends
reaches the database only to fail there: a NUL character in text, a time outside
years 1-9999 once in UTC, more digits than the column holds, a boolean where a
count belongs.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Self, TypeVar, cast

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_core import InitErrorDetails, PydanticCustomError

from cidery.costing.money import MILLI, split
from cidery.models.enums import BatchStatus, CogsItemType, PressRunStatus, Unit
from cidery.press.rules import MAX_ASSIGNMENTS, MAX_PAGE
from cidery.units import to_canonical


class WeightUnit(enum.StrEnum):
    """Units a load of fruit may be weighed in."""

    KG = "kg"
    LB = "lb"


class VolumeUnit(enum.StrEnum):
    """Units juice may be measured in (US gallons)."""

    LITRE = "L"
    GALLON = "gal"


def storable_text(value: str) -> str:
    # PostgreSQL's text cannot hold U+0000; psycopg refuses the whole statement.
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _storable_time(value: datetime) -> datetime:
    # timestamptz holds years 1-9999 in UTC; an aware time near either end can
    # leave that range once converted (0001-01-01T00:00+05:00 is year 0 in UTC).
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be between years 1 and 9999 in UTC") from None
    return value


def not_a_boolean(value: Any) -> Any:
    # Python's True is the integer 1: a count must be a number, not a checkbox.
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    return value


Amount = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=3, allow_inf_nan=False)]
# A bin or truck weighed empty; 0 when the fruit lay on the scale itself.
Tare = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=3, allow_inf_nan=False)]
Brix = Annotated[Decimal, Field(ge=0, le=40, max_digits=4, decimal_places=2, allow_inf_nan=False)]
PH = Annotated[Decimal, Field(ge=0, le=14, max_digits=3, decimal_places=2, allow_inf_nan=False)]
Hours = Annotated[Decimal, Field(ge=0, max_digits=6, decimal_places=2, allow_inf_nan=False)]
Notes = Annotated[str, Field(max_length=4000), AfterValidator(storable_text)]
Reason = Annotated[
    str,
    Field(min_length=1, max_length=4000),
    AfterValidator(storable_text),
]
Moment = Annotated[AwareDatetime, AfterValidator(_storable_time)]
WorkerCount = Annotated[int, Field(gt=0, le=1000), BeforeValidator(not_a_boolean)]
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE), BeforeValidator(not_a_boolean)]
Rate = Annotated[Decimal, Field(ge=0, le=10, max_digits=6, decimal_places=4, allow_inf_nan=False)]
# Money per hour, as press_runs.labor_rate (numeric(8,2)) keeps it.
LaborRate = Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2, allow_inf_nan=False)]


class InputModel(BaseModel):
    """What a client sends: validated, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ReadModel(BaseModel):
    """What the service returns, read from rows."""

    model_config = ConfigDict(from_attributes=True, frozen=True)


class PressRunCreate(InputModel):
    """Start a run for one grower's fruit."""

    vendor_id: uuid.UUID
    start_time: Moment | None = None
    notes: Notes | None = None


def net_weight(gross_weight: Decimal, tare_weight: Decimal) -> Decimal:
    """The fruit of a weigh tag: the bin or truck weighed full, less weighed empty (the
    database holds a tagged load's ``weight`` to exactly this)."""
    return gross_weight - tare_weight


def _weigh_tag_mistakes(
    weight: Decimal | None, gross: Decimal | None, tare: Decimal | None
) -> list[tuple[str, str]]:
    """What is wrong with how a load's weight was given, as (field, message): a net
    ``weight`` or a weigh tag (``gross_weight`` and ``tare_weight``), not both, the tag
    whole, its tare below its gross. One mistake, one message: the first found."""
    if weight is not None and (gross is not None or tare is not None):
        given = "gross_weight" if gross is not None else "tare_weight"
        return [
            (given, "give either weight or a weigh tag (gross_weight and tare_weight), not both")
        ]
    if gross is not None and tare is None:
        return [("tare_weight", "a weigh tag needs tare_weight with gross_weight")]
    if tare is not None and gross is None:
        return [("gross_weight", "a weigh tag needs gross_weight with tare_weight")]
    if gross is not None and tare is not None and tare >= gross:
        return [("tare_weight", f"must be less than gross_weight ({gross})")]
    return []


def _refuse(model: type[BaseModel], mistakes: list[tuple[str, str]]) -> None:
    # Raised as a ValidationError, each mistake at its own field: pydantic keeps the
    # locations, so the client (and a form) is told which field is wrong.
    if mistakes:
        raise ValidationError.from_exception_data(
            model.__name__,
            [
                InitErrorDetails(
                    type=PydanticCustomError("weigh_tag", message), loc=(field,), input=None
                )
                for field, message in mistakes
            ],
        )


class PressRunLoadCreate(InputModel):
    """One load weighed and pressed, drawn on one purchase line.

    Its weight is given net (``weight``) or as a weigh tag: ``gross_weight`` and
    ``tare_weight``, the bin or truck weighed full and empty, in the same
    ``weight_unit``. The load's weight is then gross less tare, and the tag is kept
    with it.
    """

    purchase_item_id: uuid.UUID
    weight: Amount | None = Field(
        default=None, description="The fruit's net weight; or give gross_weight and tare_weight."
    )
    weight_unit: WeightUnit
    gross_weight: Amount | None = Field(
        default=None, description="Weigh tag: the bin or truck weighed full, in weight_unit."
    )
    tare_weight: Tare | None = Field(
        default=None,
        description="Weigh tag: the bin or truck weighed empty, in weight_unit; below gross.",
    )
    juice_volume_l: Amount | None = None
    brix: Brix | None = None
    ph: PH | None = None
    notes: Notes | None = None
    pressed_at: Moment | None = None

    @model_validator(mode="after")
    def _weighed(self) -> Self:
        mistakes = _weigh_tag_mistakes(self.weight, self.gross_weight, self.tare_weight)
        if not mistakes and self.weight is None and self.gross_weight is None:
            mistakes = [("weight", "give the weight, or gross_weight and tare_weight")]
        _refuse(type(self), mistakes)
        return self

    @property
    def tagged(self) -> bool:
        """Whether the load was weighed with a weigh tag."""
        return self.gross_weight is not None

    @property
    def net_weight(self) -> Decimal:
        """The load's weight in ``weight_unit``: as given, or gross less tare."""
        if self.gross_weight is not None and self.tare_weight is not None:
            return net_weight(self.gross_weight, self.tare_weight)
        assert self.weight is not None  # the validator saw to it
        return self.weight

    @property
    def weight_kg(self) -> Decimal:
        return to_canonical(self.net_weight, Unit(self.weight_unit.value))


class LoadCorrection(InputModel):
    """Correct a load of an in-progress run: only the fields given change.

    ``brix``, ``ph`` and ``notes`` given as null are cleared; ``purchase_item_id``,
    ``weight``, ``weight_unit``, ``gross_weight`` and ``tare_weight`` cannot be null.
    A new weight comes with its ``weight_unit``, so a figure is never read in a unit
    the client did not state, and is given one way: ``weight`` alone sets the net
    weight and drops the load's weigh tag, if it had one; ``gross_weight`` and
    ``tare_weight`` together set the tag (a tag is corrected whole) and the weight
    becomes gross less tare. ``weight_unit`` alone re-reads the weight as entered in
    that unit (pounds entered as kilograms: ``{"weight_unit": "lb"}``), the tag with
    it. ``reason`` goes into the audit log and is not a correction by itself.
    """

    purchase_item_id: uuid.UUID | None = None
    weight: Amount | None = None
    weight_unit: WeightUnit | None = None
    gross_weight: Amount | None = None
    tare_weight: Tare | None = None
    brix: Brix | None = None
    ph: PH | None = None
    notes: Notes | None = None
    reason: Reason | None = None

    CORRECTABLE: ClassVar[tuple[str, ...]] = (
        "purchase_item_id",
        "weight",
        "weight_unit",
        "gross_weight",
        "tare_weight",
        "brix",
        "ph",
        "notes",
    )

    @field_validator("purchase_item_id", "weight", "weight_unit", "gross_weight", "tare_weight")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Only an explicit null reaches here (defaults are not validated): these columns
        # always hold a value, or (the weigh tag) are dropped by giving a weight.
        if value is None:
            raise ValueError("cannot be cleared: give a value or leave the field out")
        return value

    @model_validator(mode="after")
    def _a_correction(self) -> Self:
        _refuse(type(self), _weigh_tag_mistakes(self.weight, self.gross_weight, self.tare_weight))
        weighed = {"weight", "gross_weight"} & self.model_fields_set
        if weighed and "weight_unit" not in self.model_fields_set:
            raise ValueError("a corrected weight needs its weight_unit")
        if not self.corrected:
            raise ValueError(f"nothing to correct: give one of {', '.join(self.CORRECTABLE)}")
        return self

    @property
    def corrected(self) -> dict[str, Any]:
        """The fields given, with their values (null for a cleared one)."""
        given = self.model_fields_set
        return {name: getattr(self, name) for name in self.CORRECTABLE if name in given}


class VesselAssignment(InputModel):
    """Part of a run's juice sent to one vessel, where it becomes a juice lot."""

    vessel_id: uuid.UUID
    volume: Amount
    volume_unit: VolumeUnit = VolumeUnit.LITRE

    @property
    def volume_l(self) -> Decimal:
        return to_canonical(self.volume, Unit(self.volume_unit.value))


class PressRunComplete(InputModel):
    """Finish a run: the juice it gave and where it went.

    Either ``vessel_id`` (all the juice into one vessel) or ``assignments`` (1 to 26
    vessels, each named once, whose litres add up exactly to the juice's); each vessel
    receives one juice lot. ``pomace_weight`` (in ``pomace_unit``) is checked against
    the fruit and the juice (a warning, never a refusal); ``labor_rate`` (per hour)
    costs this run's labor instead of the cidery's setting.
    """

    juice_volume: Amount
    juice_volume_unit: VolumeUnit
    vessel_id: uuid.UUID | None = None
    assignments: (
        Annotated[list[VesselAssignment], Field(min_length=1, max_length=MAX_ASSIGNMENTS)] | None
    ) = None
    labor_hours: Hours | None = None
    worker_count: WorkerCount | None = None
    notes: Notes | None = None
    end_time: Moment | None = None
    pomace_weight: Amount | None = None
    pomace_unit: WeightUnit = WeightUnit.KG
    labor_rate: LaborRate | None = None

    @model_validator(mode="after")
    def _one_destination(self) -> Self:
        if (self.vessel_id is None) == (self.assignments is None):
            raise ValueError("give either vessel_id or assignments (one per vessel), not both")
        if self.assignments is not None:
            seen: set[uuid.UUID] = set()
            for assignment in self.assignments:
                if assignment.vessel_id in seen:
                    raise ValueError(f"vessel {assignment.vessel_id} is assigned more than once")
                seen.add(assignment.vessel_id)
        return self

    @property
    def juice_volume_l(self) -> Decimal:
        return to_canonical(self.juice_volume, Unit(self.juice_volume_unit.value))

    @property
    def destinations(self) -> list[tuple[uuid.UUID, Decimal]]:
        """Each vessel with the litres it receives, in the order given.

        Shares given in the juice's own unit that add up to the juice are the juice's
        litres, shared in proportion to the millilitre (largest remainder): rounding each
        share on its own could miss the total (25 + 25 gal of 50 gal are 189.271 +
        189.271 L of 378.541 L). Shares in another unit are converted one by one, and
        must then add up to the juice's litres as they are.
        """
        if self.assignments is None:
            assert self.vessel_id is not None  # the validator's rule
            return [(self.vessel_id, self.juice_volume_l)]
        volumes = [a.volume for a in self.assignments]
        if (
            all(a.volume_unit == self.juice_volume_unit for a in self.assignments)
            and sum(volumes, Decimal(0)) == self.juice_volume
        ):
            litres = split(self.juice_volume_l, volumes, quantum=MILLI)
            return [(a.vessel_id, share) for a, share in zip(self.assignments, litres, strict=True)]
        return [(a.vessel_id, a.volume_l) for a in self.assignments]

    @property
    def pomace_kg(self) -> Decimal | None:
        if self.pomace_weight is None:
            return None
        return to_canonical(self.pomace_weight, Unit(self.pomace_unit.value))


class PressRunCancel(InputModel):
    """Abandon a run; the reason goes into the run's notes and the audit log."""

    reason: Reason


class LoadVoid(InputModel):
    """Take back a load; the reason goes into the audit log."""

    reason: Reason


class FruitWriteOffCreate(InputModel):
    """Write off fruit of a purchase line as waste (rotten, culled): by default all that
    is left, or ``weight_kg`` of it."""

    reason: Reason = Field(description="Why the fruit is waste; kept with it and in the log.")
    weight_kg: Amount | None = Field(
        default=None,
        description="Kilograms to write off, at most what is left; all that is left if omitted.",
    )


class CostRecompute(InputModel):
    """Recompute a completed run's lot costs (admins): why, and optionally the labor
    rate per hour and the hours to cost it at from now on."""

    reason: Reason
    labor_rate: LaborRate | None = None
    labor_hours: Hours | None = None


class RunFilter(InputModel):
    """Which runs :func:`cidery.press.list_runs` returns, a page at a time, newest first."""

    status: PressRunStatus | None = None
    vendor_id: uuid.UUID | None = None
    since: Moment | None = Field(default=None, description="Runs started at or after.")
    until: Moment | None = Field(default=None, description="Runs started before.")
    limit: PageSize = 50
    after: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="The next_cursor of the previous page."
    )


class FruitFilter(InputModel):
    """Whose fruit :func:`cidery.press.available_fruit` offers."""

    vendor_id: uuid.UUID | None = None
    variety_id: uuid.UUID | None = None


class LotFilter(InputModel):
    """Which juice lots :func:`cidery.press.list_lots` returns, newest first, a page at a time."""

    incomplete: bool = Field(
        default=False, description="Only lots whose cost is incomplete (a line without a price)."
    )
    season: Annotated[int, Field(ge=1900, le=9999), BeforeValidator(not_a_boolean)] | None = Field(
        default=None, description="Only lots started (pressed) in this year."
    )
    limit: PageSize = 50
    after: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="The next_cursor of the previous page."
    )


class YieldBand(InputModel):
    """The usual yield in L/kg; completed runs outside it are outliers."""

    low: Rate
    high: Rate

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) is above high ({self.high})")
        return self


# The read type of a pressing table's row, one field per column in the table's order, is
# a validated dataclass rather than a model: the reads build it from the row's values in
# column order (ArgsKwargs), without a dict per row, and it validates in two thirds of a
# model's time. A description that would be a dataclass field's default is given in
# Annotated instead. Callers with a row by column name use
# read_row().
@dataclass(frozen=True)
class PressRunLoadRead:
    """A load as stored; one field per column of ``press_run_loads``."""

    id: uuid.UUID
    press_run_id: uuid.UUID
    purchase_item_id: uuid.UUID
    apple_variety_id: uuid.UUID
    load_sequence: int
    weight: Decimal
    weight_unit: WeightUnit
    weight_kg: Decimal
    juice_volume_l: Decimal | None
    brix: Decimal | None
    ph: Decimal | None
    notes: str | None
    pressed_at: datetime
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    created_by: uuid.UUID | None
    updated_by: uuid.UUID | None
    gross_weight: Annotated[
        Decimal | None,
        Field(
            description=(
                "Weigh tag: the bin or truck weighed full, in weight_unit; null without one."
            )
        ),
    ]
    tare_weight: Annotated[
        Decimal | None,
        Field(description="Weigh tag: the bin or truck weighed empty; weight = gross - tare."),
    ]


@dataclass(frozen=True)
class PressRunRead:
    """A run as stored; one field per column of ``press_runs``."""

    id: uuid.UUID
    vendor_id: uuid.UUID
    vessel_id: uuid.UUID | None
    status: PressRunStatus
    start_time: datetime
    end_time: datetime | None
    total_apple_weight_kg: Decimal
    juice_volume: Decimal | None
    juice_volume_unit: VolumeUnit | None
    total_juice_volume_l: Decimal | None
    extraction_rate: Annotated[
        Decimal | None,
        Field(description="Litres of juice per kilogram of fruit (generated by the database)."),
    ]
    labor_hours: Decimal | None
    worker_count: int | None
    notes: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    created_by: uuid.UUID | None
    updated_by: uuid.UUID | None
    pomace_kg: Annotated[
        Decimal | None, Field(description="Pomace weighed at completion, if it was.")
    ]
    labor_rate: Annotated[
        Decimal | None,
        Field(description="Labor cost per hour the run's juice lots were costed at."),
    ]


@dataclass(frozen=True)
class PressRunBatchRead:
    """Juice of a run sent to a juice lot (a batch); one field per column of
    ``press_run_batches``."""

    id: uuid.UUID
    press_run_id: uuid.UUID
    batch_id: uuid.UUID
    volume_l: Annotated[Decimal, Field(description="Litres of the run's juice the lot received.")]
    created_at: datetime
    created_by: uuid.UUID | None


class PressRunSummary(ReadModel):
    """A run in a list: its totals and how many loads it has."""

    id: uuid.UUID
    vendor_id: uuid.UUID
    vendor_name: str
    vessel_id: uuid.UUID | None
    status: PressRunStatus
    start_time: datetime
    end_time: datetime | None
    load_count: int
    total_apple_weight_kg: Decimal
    total_juice_volume_l: Decimal | None
    extraction_rate: Decimal | None


# A read type of which one call returns hundreds (the lines of the variety picker) is a
# plain dataclass, built from each row's values without validation: every value is
# already of its field's type, as psycopg loads the column (a UUID, a str, a date, a
# Decimal; nothing to convert, unlike a status label into its enum), and the database
# holds what validation would check (NOT NULL, amounts finite: numeric(10,3) refuses
# infinity and the columns' checks refuse NaN). Validating each line again cost 1.4 µs
# of the 1.7 µs a line costs to fetch and build (a fifth of the call at L); a frozen
# dataclass's __init__ alone costs five times a slotted one's. cidery.press.reads checks
# when it loads that the statement's columns are these fields, of these types, nullable
# only where a field may be None. The JSON and the JSON Schema are the same as a model's.
@dataclasses.dataclass(slots=True)
class AvailableFruit:
    """A purchase line with fruit left to press, for the variety picker."""

    purchase_item_id: uuid.UUID
    purchase_id: uuid.UUID
    vendor_id: uuid.UUID
    vendor_name: str
    apple_variety_id: uuid.UUID
    variety_name: str
    purchase_date: date
    harvest_date: date | None
    quantity_kg: Decimal
    pressed_kg: Decimal
    written_off_kg: Annotated[Decimal, Field(description="Kilograms written off as waste.")]
    remaining_kg: Annotated[Decimal, Field(description="Bought, less pressed, less written off.")]


class FruitWriteOffRead(ReadModel):
    """Fruit of a purchase line written off as waste; one field per column of
    ``fruit_write_offs``."""

    id: uuid.UUID
    purchase_item_id: uuid.UUID
    weight_kg: Decimal
    reason: str
    created_at: datetime
    created_by: uuid.UUID | None


class VarietyTotal(ReadModel):
    apple_variety_id: uuid.UUID
    variety_name: str
    load_count: int
    weight_kg: Decimal


class PressRunDetail(ReadModel):
    """A run to resume: the run, its grower's name, its live loads in order, and
    running totals."""

    run: PressRunRead
    vendor_name: str
    loads: list[PressRunLoadRead]
    load_count: int
    total_weight_kg: Decimal
    varieties: list[VarietyTotal]


class LotShare(ReadModel):
    """A variety's or a grower's part of a juice lot, in kg of fruit and litres of juice."""

    name: str
    kg: Decimal
    litres: Decimal


class LotLine(ReadModel):
    """The fruit of one purchase line in a juice lot; ``cost`` null: the line has no price."""

    purchase_item_id: uuid.UUID
    variety: str
    grower: str
    kg: Decimal
    cost: Decimal | None


class JuiceLot(ReadModel):
    """A juice lot: the batch a run's juice filled in one vessel, what is in it (computed
    from the run's live loads when read) and what it cost (as written when the run was
    completed, or last recomputed). A cost is null when unknown, never zero."""

    batch_id: uuid.UUID
    batch_number: str
    vessel_id: uuid.UUID | None
    vessel_name: str | None
    press_run_id: uuid.UUID
    litres: Decimal = Field(description="Litres of the run's juice the lot received.")
    kg: Decimal = Field(description="Kilograms of the run's fruit credited to the lot.")
    varieties: list[LotShare]
    growers: list[LotShare]
    lines: list[LotLine]
    fruit_cost: Decimal | None
    labor_cost: Decimal | None
    total_cost: Decimal | None
    cost_per_l: Decimal | None
    complete: bool = Field(description="False when a cost is unknown (see missing_lines).")
    missing_lines: list[uuid.UUID] = Field(description="Purchase lines drawn on without a price.")
    labor_missing: bool = Field(description="The run's labor hours were not recorded.")


class CompletedRun(ReadModel):
    """A completed run, its juice lots, and warnings the operator should look at (an
    unusual yield, a mass balance off)."""

    run: PressRunRead
    warnings: list[str]
    lots: list[JuiceLot]


class RunPage(ReadModel):
    """One page of runs; pass ``next_cursor`` as ``after`` for the next page."""

    items: list[PressRunSummary]
    next_cursor: str | None


class CogsItemRead(ReadModel):
    """A cost item of a batch; one field per column of ``cogs_items``."""

    id: uuid.UUID
    batch_id: uuid.UUID
    item_type: CogsItemType
    description: str
    cost: Decimal | None = Field(description="Null: unknown (a line without a price).")
    quantity: Decimal | None
    unit: Unit | None
    applied_at: datetime
    purchase_item_id: uuid.UUID | None = Field(
        description="The purchase line a fruit cost was drawn on."
    )
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class LotDetail(ReadModel):
    """A juice lot with its batch, its run and the cost items it was costed from."""

    lot: JuiceLot
    name: str | None
    status: BatchStatus
    start_date: date
    initial_volume_l: Decimal
    current_volume_l: Decimal
    calculated_at: datetime | None = Field(description="When the costs were last computed.")
    run: PressRunRead
    vendor_name: str
    cogs_items: list[CogsItemRead]


class LotSummary(ReadModel):
    """A juice lot in a list: its run, vessel, litres and cost."""

    batch_id: uuid.UUID
    batch_number: str
    vessel_id: uuid.UUID | None
    vessel_name: str | None
    press_run_id: uuid.UUID
    vendor_name: str
    start_date: date
    litres: Decimal
    fruit_cost: Decimal | None
    labor_cost: Decimal | None
    total_cost: Decimal | None
    cost_per_l: Decimal | None
    complete: bool
    created_at: datetime


class LotPage(ReadModel):
    """One page of juice lots; pass ``next_cursor`` as ``after`` for the next page."""

    items: list[LotSummary]
    next_cursor: str | None


class RecomputedCosts(ReadModel):
    """A completed run after its lots' costs were recomputed."""

    run: PressRunRead
    lots: list[JuiceLot]


EXPORTED: tuple[type[Any], ...] = (
    PressRunCreate,
    PressRunLoadCreate,
    PressRunComplete,
    PressRunCancel,
    LoadVoid,
    LoadCorrection,
    FruitWriteOffCreate,
    RunFilter,
    FruitFilter,
    YieldBand,
    PressRunRead,
    PressRunLoadRead,
    PressRunSummary,
    AvailableFruit,
    FruitWriteOffRead,
    PressRunDetail,
    CompletedRun,
    RunPage,
    VesselAssignment,
    CostRecompute,
    LotFilter,
    LotShare,
    LotLine,
    JuiceLot,
    CogsItemRead,
    LotDetail,
    LotSummary,
    LotPage,
    RecomputedCosts,
)

# Which Read type mirrors which table; the parity test holds them to it.
READ_TYPES_BY_TABLE: dict[str, type[Any]] = {
    "press_runs": PressRunRead,
    "press_run_loads": PressRunLoadRead,
    "press_run_batches": PressRunBatchRead,
}


_Row = TypeVar("_Row")


# One per read type, made on first use.
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def read_row(kind: type[_Row], row: Mapping[Any, Any]) -> _Row:
    """A read type (a table's row type, :class:`PressRunRead`) validated from a row by column
    name: a RETURNING row, a dict; keys that are not its fields are ignored."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    # A dataclass validates from a dict only (a RowMapping is a Mapping, not a dict).
    return cast(_Row, adapter.validate_python(row if isinstance(row, dict) else dict(row)))
