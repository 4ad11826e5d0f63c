"""Sample data: a small cidery, for development, demos and the smoke checks.

The data describes one cider house over the 2023 and 2024 harvests: three
staff accounts, five growers (one no longer supplying), eight varieties, six
fruit invoices entered in pounds, kilograms and bushels, a vessel of every type
and status, three batches with their readings, one packaged run in stock, and
four press runs (completed, in progress, cancelled) drawing on the fruit bought.

:func:`seed` is idempotent. Every aggregate is found by its natural key — the
same key a partial unique index enforces on live rows — and an aggregate that
already exists is left exactly as it is, children included: a purchase found by
``(vendor, invoice_number)`` keeps whatever lines someone has edited since.
Soft-deleted rows do not count as existing, as for the unique indexes, so a
deleted sample row comes back on the next seed.

Each aggregate has a data tuple and one ``seed_*`` step; :data:`STEPS` runs
them in dependency order, so a new aggregate is a new tuple, a new step and
one more entry there, naming the tables the step writes.

Seeding works at any revision, not only at head: a step whose tables do not
all exist yet (a database at ``0001`` has no press tables) is skipped. Its
tables are then absent from :attr:`SeedReport.inserted` — nothing was
inserted because there is nowhere to insert — and listed in
:attr:`SeedReport.skipped`; seeding again after the upgrade adds them. The
revision harness in the tests relies on this to seed a database at every
revision of the history.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import InstrumentedAttribute, Session

from cidery import credentials
from cidery.models import (
    ApiToken,
    AppleVariety,
    Batch,
    BatchCost,
    BatchMeasurement,
    Inventory,
    InventoryTransaction,
    Package,
    PressRun,
    PressRunBatch,
    PressRunLoad,
    Purchase,
    PurchaseItem,
    User,
    Vendor,
    Vessel,
)
from cidery.models.base import Entity, live
from cidery.models.enums import (
    BatchStatus,
    PressRunStatus,
    TransactionType,
    Unit,
    UserRole,
    VesselStatus,
    VesselType,
)
from cidery.press import lots, queries
from cidery.press.access import Actor
from cidery.press.errors import NothingLeft
from cidery.press.writeoffs import write_off_line
from cidery.units import to_canonical

# Not in any password-hash format (no ``$scheme$`` prefix), so no password can ever
# verify against it: what sample accounts of databases seeded before sign-in existed
# hold, until the next seed gives them their demo password.
PLACEHOLDER_PASSWORD_HASH = "seed-not-a-login"

# The demo operator's API token, for scripts and the README's examples against the
# sample data. Like the demo passwords it is public: sample data is for a demo or a
# development database, never for a cidery's real one.
DEMO_API_TOKEN = "cidery_demo-operator-token-sample-data-only"

# The operator's account records the sample readings and stock movements.
RECORDING_USER_EMAIL = "operator@cidery.example"

CENTS = Decimal("0.01")


@dataclass
class SeedReport:
    # Rows added, by table; a table of a skipped step does not appear.
    inserted: dict[str, int] = field(default_factory=dict)
    # Tables of the steps skipped because the database is at a revision without them.
    skipped: list[str] = field(default_factory=list)


# --- the data -----------------------------------------------------------------------


@dataclass(frozen=True)
class UserSeed:
    email: str
    name: str
    role: UserRole
    # The demo sign-in (``make run`` prints them): public, for sample data only.
    password: str


@dataclass(frozen=True)
class VendorSeed:
    name: str
    phone: str
    email: str
    address: str
    is_active: bool = True

    def contact_info(self) -> dict[str, Any]:
        return {"phone": self.phone, "email": self.email, "address": self.address}


@dataclass(frozen=True)
class VarietySeed:
    name: str
    typical_brix: Decimal
    description: str


@dataclass(frozen=True)
class ItemSeed:
    variety: str
    quantity: Decimal
    unit: Unit
    price_per_unit: Decimal
    harvest_date: date | None = None


@dataclass(frozen=True)
class PurchaseSeed:
    vendor: str
    invoice_number: str
    purchase_date: date
    items: tuple[ItemSeed, ...]
    notes: str | None = None


@dataclass(frozen=True)
class VesselSeed:
    name: str
    type: VesselType
    status: VesselStatus
    capacity_l: Decimal
    location: str
    notes: str | None = None


@dataclass(frozen=True)
class MeasurementSeed:
    measured_at: datetime
    specific_gravity: Decimal | None = None
    brix: Decimal | None = None
    ph: Decimal | None = None
    abv: Decimal | None = None
    temperature_c: Decimal | None = None
    notes: str | None = None


@dataclass(frozen=True)
class BatchSeed:
    batch_number: str
    name: str
    vessel: str | None
    status: BatchStatus
    start_date: date
    initial_volume_l: Decimal
    current_volume_l: Decimal
    measurements: tuple[MeasurementSeed, ...]
    end_date: date | None = None
    target_abv: Decimal | None = None
    actual_abv: Decimal | None = None
    notes: str | None = None


@dataclass(frozen=True)
class PackageSeed:
    batch_number: str
    package_date: date
    volume_packaged_l: Decimal
    bottle_size_ml: int
    bottle_count: int
    abv_at_packaging: Decimal | None
    stock_location: str
    reserved_bottle_count: int = 0


@dataclass(frozen=True)
class LoadSeed:
    invoice_number: str
    variety: str
    weight: Decimal
    weight_unit: Unit
    brix: Decimal | None = None
    ph: Decimal | None = None


@dataclass(frozen=True)
class LotSeed:
    """Litres of a completed run's juice sent to one vessel: a juice lot."""

    vessel: str
    litres: Decimal


@dataclass(frozen=True)
class PressRunSeed:
    vendor: str
    start_time: datetime
    status: PressRunStatus
    loads: tuple[LoadSeed, ...]
    end_time: datetime | None = None
    vessel: str | None = None
    juice_volume: Decimal | None = None
    juice_volume_unit: Unit | None = None
    labor_hours: Decimal | None = None
    worker_count: int | None = None
    notes: str | None = None
    # Juice lots (revision 0007): the first one's vessel is ``vessel``.
    lots: tuple[LotSeed, ...] = ()
    pomace_kg: Decimal | None = None
    labor_rate: Decimal | None = None


@dataclass(frozen=True)
class WriteOffSeed:
    """What was left of a purchase line, written off as waste."""

    invoice_number: str
    variety: str
    reason: str


def _at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


D = Decimal

USERS: tuple[UserSeed, ...] = (
    UserSeed("admin@cidery.example", "Morgan Hale", UserRole.ADMIN, "demo-admin-pass"),
    UserSeed(RECORDING_USER_EMAIL, "Sam Ortiz", UserRole.OPERATOR, "demo-operator-pass"),
    UserSeed("viewer@cidery.example", "Jamie Chen", UserRole.VIEWER, "demo-viewer-pass"),
)

# 555-01xx numbers and the .example domain are reserved for fiction.
VENDORS: tuple[VendorSeed, ...] = (
    VendorSeed(
        "Hillside Heritage Orchard",
        "+1 802-555-0142",
        "orders@hillside-orchard.example",
        "412 Ridge Road, Shoreham, VT 05770",
    ),
    VendorSeed(
        "Bramble Creek Farm",
        "+1 518-555-0187",
        "fruit@bramblecreek.example",
        "88 Creek Lane, Hoosick Falls, NY 12090",
    ),
    VendorSeed(
        "Old Mill Cider Apples",
        "+1 413-555-0119",
        "sales@oldmill-apples.example",
        "3 Mill Pond Road, Ashfield, MA 01330",
    ),
    VendorSeed(
        "Two Rivers Fruit Co.",
        "+1 603-555-0164",
        "office@tworiversfruit.example",
        "1270 River Street, Walpole, NH 03608",
    ),
    # Retired after the 2023 harvest; kept because its invoices are history.
    VendorSeed(
        "Cedar Hollow Growers",
        "+1 802-555-0103",
        "cedarhollow@growers.example",
        "9 Hollow Road, Middlebury, VT 05753",
        is_active=False,
    ),
)

VARIETIES: tuple[VarietySeed, ...] = (
    VarietySeed("Kingston Black", D("15.5"), "Bittersharp; the classic single-varietal cider."),
    VarietySeed("Dabinett", D("14.0"), "Bittersweet; soft tannin, the backbone of a blend."),
    VarietySeed("Yarlington Mill", D("14.5"), "Bittersweet; rich and aromatic."),
    VarietySeed("Golden Russet", D("17.0"), "Sharp; very high sugar, the best American russet."),
    VarietySeed("Northern Spy", D("13.5"), "Sharp; crisp acidity, keeps well."),
    VarietySeed("Gravenstein", D("12.5"), "Early sharp; aromatic, ripens in August."),
    VarietySeed("McIntosh", D("11.5"), "Dessert apple; fruity body for blends."),
    VarietySeed("Wickson", D("20.0"), "Crab apple; very high sugar and acid, used sparingly."),
)

PURCHASES: tuple[PurchaseSeed, ...] = (
    PurchaseSeed(
        "Cedar Hollow Growers",
        "CHG-0877",
        date(2023, 10, 12),
        (
            ItemSeed("McIntosh", D("900"), Unit.LB, D("0.42"), date(2023, 10, 5)),
            ItemSeed("Golden Russet", D("312.4"), Unit.KG, D("1.90"), date(2023, 10, 9)),
        ),
        notes="Last delivery before the orchard was sold.",
    ),
    PurchaseSeed(
        "Hillside Heritage Orchard",
        "HHO-2024-0917",
        date(2024, 9, 17),
        (
            ItemSeed("Gravenstein", D("1200"), Unit.LB, D("0.45"), date(2024, 9, 12)),
            ItemSeed("McIntosh", D("20"), Unit.BUSHEL, D("18.00"), date(2024, 9, 15)),
        ),
    ),
    PurchaseSeed(
        "Bramble Creek Farm",
        "BCF-1031",
        date(2024, 10, 2),
        (
            ItemSeed("Kingston Black", D("450"), Unit.KG, D("1.85"), date(2024, 9, 28)),
            ItemSeed("Dabinett", D("600"), Unit.KG, D("1.60"), date(2024, 9, 30)),
        ),
    ),
    PurchaseSeed(
        "Old Mill Cider Apples",
        "OM-24-118",
        date(2024, 10, 9),
        (
            ItemSeed("Yarlington Mill", D("35"), Unit.BUSHEL, D("24.50"), date(2024, 10, 4)),
            ItemSeed("Dabinett", D("18.5"), Unit.BUSHEL, D("23.00"), date(2024, 10, 4)),
        ),
        notes="Sweated a week in the barn before pressing.",
    ),
    PurchaseSeed(
        "Two Rivers Fruit Co.",
        "TR-5521",
        date(2024, 10, 15),
        (
            # A price to the tenth of a cent, so the line total really rounds.
            ItemSeed("Golden Russet", D("850.5"), Unit.LB, D("0.6150"), date(2024, 10, 10)),
            ItemSeed("Northern Spy", D("1100"), Unit.LB, D("0.48"), date(2024, 10, 11)),
            ItemSeed("Wickson", D("120"), Unit.LB, D("1.25"), date(2024, 10, 8)),
        ),
    ),
    PurchaseSeed(
        "Hillside Heritage Orchard",
        "HHO-2024-1022",
        date(2024, 10, 22),
        (
            ItemSeed("Northern Spy", D("25"), Unit.BUSHEL, D("19.00"), date(2024, 10, 18)),
            ItemSeed("Golden Russet", D("12.5"), Unit.BUSHEL, D("26.00"), date(2024, 10, 18)),
        ),
    ),
)

# Every type and every status appears, and the in-use vessels are the ones
# holding the unfinished batches below.
VESSELS: tuple[VesselSeed, ...] = (
    VesselSeed("FV-1", VesselType.FERMENTER, VesselStatus.IN_USE, D("1000"), "Cellar bay 1"),
    VesselSeed("FV-2", VesselType.FERMENTER, VesselStatus.IN_USE, D("1000"), "Cellar bay 1"),
    VesselSeed(
        "FV-3",
        VesselType.FERMENTER,
        VesselStatus.CLEANING,
        D("500"),
        "Cellar bay 2",
        notes="Caustic wash after the 2023 dessert blend.",
    ),
    VesselSeed("CT-1", VesselType.CONDITIONING_TANK, VesselStatus.IN_USE, D("800"), "Cellar bay 2"),
    VesselSeed("BT-1", VesselType.BRIGHT_TANK, VesselStatus.AVAILABLE, D("600"), "Packaging room"),
    VesselSeed(
        "BBL-1",
        VesselType.BARREL,
        VesselStatus.MAINTENANCE,
        D("225"),
        "Barrel room",
        notes="Ex-bourbon barrique; head hoop being reset.",
    ),
    VesselSeed("BBL-2", VesselType.BARREL, VesselStatus.IN_USE, D("228"), "Barrel room"),
    VesselSeed(
        "ST-1",
        VesselType.STORAGE,
        VesselStatus.AVAILABLE,
        D("2000"),
        "Press house",
        notes="Juice holding tank between pressing and pitching.",
    ),
)

BATCHES: tuple[BatchSeed, ...] = (
    BatchSeed(
        "2023-007",
        "Heritage dessert blend",
        None,
        BatchStatus.PACKAGED,
        date(2023, 10, 20),
        D("600"),
        D("0"),
        (
            MeasurementSeed(
                _at(2023, 10, 20),
                specific_gravity=D("1.052"),
                brix=D("12.8"),
                ph=D("3.40"),
                temperature_c=D("12.0"),
                notes="Juice at pitching.",
            ),
            MeasurementSeed(
                _at(2024, 3, 10),
                specific_gravity=D("0.998"),
                ph=D("3.50"),
                abv=D("6.4"),
                temperature_c=D("10.0"),
                notes="Dry; cleared for packaging.",
            ),
        ),
        end_date=date(2024, 3, 15),
        target_abv=D("6.5"),
        actual_abv=D("6.4"),
    ),
    BatchSeed(
        "2024-001",
        "Kingston Black single varietal",
        "CT-1",
        BatchStatus.CONDITIONING,
        date(2024, 10, 3),
        D("720"),
        D("705"),
        (
            MeasurementSeed(
                _at(2024, 10, 3),
                specific_gravity=D("1.062"),
                brix=D("15.2"),
                ph=D("3.45"),
                temperature_c=D("12.0"),
                notes="Juice at pitching.",
            ),
            MeasurementSeed(
                _at(2024, 10, 17), specific_gravity=D("1.020"), temperature_c=D("14.5")
            ),
            MeasurementSeed(
                _at(2024, 11, 7),
                specific_gravity=D("1.000"),
                ph=D("3.55"),
                temperature_c=D("13.0"),
                notes="Racked off the lees into CT-1.",
            ),
        ),
        target_abv=D("7.5"),
    ),
    BatchSeed(
        "2024-002",
        "Somerset-style bittersweet blend",
        "FV-1",
        BatchStatus.FERMENTING,
        date(2024, 10, 11),
        D("900"),
        D("900"),
        (
            MeasurementSeed(
                _at(2024, 10, 11),
                specific_gravity=D("1.058"),
                brix=D("14.2"),
                ph=D("3.80"),
                temperature_c=D("11.0"),
                notes="Dabinett and Yarlington Mill, 2:1.",
            ),
            MeasurementSeed(
                _at(2024, 10, 25), specific_gravity=D("1.030"), temperature_c=D("13.5")
            ),
        ),
        target_abv=D("6.8"),
    ),
)

PACKAGES: tuple[PackageSeed, ...] = (
    PackageSeed(
        "2023-007",
        date(2024, 3, 15),
        D("588"),
        750,
        784,
        D("6.4"),
        "Cold store, rack A",
        reserved_bottle_count=48,
    ),
)

# One run of each status. Loads draw on the purchase lines above and never
# exceed them; the completed runs yield 0.65-0.67 L of juice per kg.
PRESS_RUNS: tuple[PressRunSeed, ...] = (
    PressRunSeed(
        "Bramble Creek Farm",
        _at(2024, 10, 2, 8),
        PressRunStatus.COMPLETED,
        (
            LoadSeed("BCF-1031", "Kingston Black", D("200"), Unit.KG, D("15.4"), D("3.42")),
            LoadSeed("BCF-1031", "Kingston Black", D("180"), Unit.KG, D("15.6"), D("3.44")),
            LoadSeed("BCF-1031", "Dabinett", D("300"), Unit.KG, D("13.9"), D("3.85")),
        ),
        end_time=_at(2024, 10, 2, 12),
        vessel="CT-1",
        juice_volume=D("120"),
        juice_volume_unit=Unit.GALLON,
        labor_hours=D("3.50"),
        worker_count=3,
    ),
    PressRunSeed(
        "Old Mill Cider Apples",
        _at(2024, 10, 10, 7),
        PressRunStatus.COMPLETED,
        (
            LoadSeed("OM-24-118", "Yarlington Mill", D("800"), Unit.LB, D("14.6")),
            LoadSeed("OM-24-118", "Yarlington Mill", D("600"), Unit.LB, D("14.4")),
            LoadSeed("OM-24-118", "Dabinett", D("700"), Unit.LB, D("14.1")),
        ),
        end_time=_at(2024, 10, 10, 12),
        vessel="FV-1",
        juice_volume=D("620"),
        juice_volume_unit=Unit.LITRE,
        labor_hours=D("4.75"),
        worker_count=2,
        notes="Sweated fruit; slow press, good clarity.",
    ),
    PressRunSeed(
        "Two Rivers Fruit Co.",
        _at(2024, 10, 16, 8),
        PressRunStatus.IN_PROGRESS,
        (
            LoadSeed("TR-5521", "Northern Spy", D("500"), Unit.LB, D("13.2"), D("3.30")),
            LoadSeed("TR-5521", "Golden Russet", D("400"), Unit.LB, D("17.1")),
        ),
        notes="Stopped for the rack-and-cloth repair; resume after lunch.",
    ),
    # Split across two vessels: most into a fermenter, the rest into a barrel.
    PressRunSeed(
        "Hillside Heritage Orchard",
        _at(2024, 9, 18, 8),
        PressRunStatus.COMPLETED,
        (
            LoadSeed("HHO-2024-0917", "Gravenstein", D("600"), Unit.LB, D("12.1"), D("3.38")),
            LoadSeed("HHO-2024-0917", "Gravenstein", D("500"), Unit.LB, D("12.3")),
            LoadSeed("HHO-2024-0917", "McIntosh", D("200"), Unit.KG, D("11.8"), D("3.30")),
        ),
        end_time=_at(2024, 9, 18, 13),
        vessel="FV-2",
        juice_volume=D("460"),
        juice_volume_unit=Unit.LITRE,
        labor_hours=D("4.00"),
        worker_count=2,
        lots=(LotSeed("FV-2", D("260")), LotSeed("BBL-2", D("200"))),
        pomace_kg=D("215"),
        labor_rate=D("25.00"),
    ),
    PressRunSeed(
        "Hillside Heritage Orchard",
        _at(2024, 10, 23, 8),
        PressRunStatus.CANCELLED,
        (LoadSeed("HHO-2024-1022", "Northern Spy", D("150"), Unit.KG),),
        end_time=_at(2024, 10, 23, 9),
        notes="Cancelled: press hydraulics failed; fruit returned to the cooler.",
    ),
)


WRITE_OFFS: tuple[WriteOffSeed, ...] = (
    WriteOffSeed("TR-5521", "Wickson", "Bitter pit and bruising: culled at the sorting table."),
)


# --- helpers ------------------------------------------------------------------------


LiveRow = TypeVar("LiveRow", bound=Entity)


def _live_by_key(
    session: Session, model: type[LiveRow], column: InstrumentedAttribute[str]
) -> dict[str, LiveRow]:
    """Live rows by their natural key, lower-cased as the unique indexes compare it."""
    rows = session.scalars(select(model).where(live(model)))
    return {str(getattr(row, column.key)).lower(): row for row in rows}


def _cents(amount: Decimal) -> Decimal:
    # Money rounds half up, as on the growers' invoices.
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


# --- one step per aggregate ---------------------------------------------------------


def seed_users(session: Session) -> dict[str, int]:
    """The demo accounts, one per role, with their demo passwords.

    An account seeded before sign-in existed (the placeholder hash) gets its demo
    password; an account whose password was changed keeps it.
    """
    existing = {
        user.email.lower(): user for user in session.scalars(select(User).where(live(User)))
    }
    added = 0
    for data in USERS:
        user = existing.get(data.email.lower())
        if user is None:
            session.add(
                User(
                    email=data.email,
                    name=data.name,
                    role=data.role,
                    password_hash=credentials.hash_password(data.password),
                )
            )
            added += 1
        elif user.password_hash == PLACEHOLDER_PASSWORD_HASH:
            user.password_hash = credentials.hash_password(data.password)
    session.flush()
    return {"users": added}


def seed_api_tokens(session: Session) -> dict[str, int]:
    """The demo operator's API token (:data:`DEMO_API_TOKEN`)."""
    digest = credentials.digest(DEMO_API_TOKEN)
    if session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest)) is not None:
        return {"api_tokens": 0}
    operator = session.scalar(
        select(User.id).where(func.lower(User.email) == RECORDING_USER_EMAIL, live(User))
    )
    if operator is None:
        return {"api_tokens": 0}
    session.add(
        ApiToken(
            user_id=operator,
            name="demo token (sample data)",
            token_hash=digest,
            prefix=DEMO_API_TOKEN[: credentials.SHOWN_CHARS],
        )
    )
    session.flush()
    return {"api_tokens": 1}


def seed_vendors(session: Session) -> dict[str, int]:
    existing = _live_by_key(session, Vendor, Vendor.name)
    added = 0
    for data in VENDORS:
        if data.name.lower() in existing:
            continue
        session.add(
            Vendor(name=data.name, contact_info=data.contact_info(), is_active=data.is_active)
        )
        added += 1
    session.flush()
    return {"vendors": added}


def seed_varieties(session: Session) -> dict[str, int]:
    existing = _live_by_key(session, AppleVariety, AppleVariety.name)
    added = 0
    for data in VARIETIES:
        if data.name.lower() in existing:
            continue
        session.add(
            AppleVariety(
                name=data.name, typical_brix=data.typical_brix, description=data.description
            )
        )
        added += 1
    session.flush()
    return {"apple_varieties": added}


def purchase_item(data: ItemSeed, variety: AppleVariety) -> PurchaseItem:
    """A fruit line as entered, with its canonical kilograms and its cost."""
    return PurchaseItem(
        apple_variety_id=variety.id,
        quantity=data.quantity,
        unit=data.unit,
        quantity_kg=to_canonical(data.quantity, data.unit),
        price_per_unit=data.price_per_unit,
        total_cost=_cents(data.quantity * data.price_per_unit),
        harvest_date=data.harvest_date,
    )


def seed_purchases(session: Session) -> dict[str, int]:
    vendors = _live_by_key(session, Vendor, Vendor.name)
    varieties = _live_by_key(session, AppleVariety, AppleVariety.name)
    # Invoice numbers are the grower's own, unique per grower and compared as typed.
    existing = {
        (vendor_id, invoice)
        for vendor_id, invoice in session.execute(
            select(Purchase.vendor_id, Purchase.invoice_number).where(
                live(Purchase), Purchase.invoice_number.is_not(None)
            )
        )
    }
    purchases = items = 0
    for data in PURCHASES:
        vendor = vendors[data.vendor.lower()]
        if (vendor.id, data.invoice_number) in existing:
            continue
        lines = [purchase_item(item, varieties[item.variety.lower()]) for item in data.items]
        session.add(
            Purchase(
                vendor_id=vendor.id,
                purchase_date=data.purchase_date,
                invoice_number=data.invoice_number,
                total_cost=sum((line.total_cost or D(0) for line in lines), D(0)),
                notes=data.notes,
                items=lines,
            )
        )
        purchases += 1
        items += len(lines)
    session.flush()
    return {"purchases": purchases, "purchase_items": items}


def seed_vessels(session: Session) -> dict[str, int]:
    existing = _live_by_key(session, Vessel, Vessel.name)
    added = 0
    for data in VESSELS:
        if data.name.lower() in existing:
            continue
        session.add(
            Vessel(
                name=data.name,
                type=data.type,
                status=data.status,
                capacity_l=data.capacity_l,
                location=data.location,
                notes=data.notes,
            )
        )
        added += 1
    session.flush()
    return {"vessels": added}


def _recording_user_id(session: Session) -> uuid.UUID | None:
    return session.scalar(
        select(User.id).where(func.lower(User.email) == RECORDING_USER_EMAIL, live(User))
    )


def seed_batches(session: Session) -> dict[str, int]:
    vessels = _live_by_key(session, Vessel, Vessel.name)
    # Batch numbers are unique as typed (the index is not on lower()), so no folding.
    existing = set(session.scalars(select(Batch.batch_number).where(live(Batch))))
    recorder = _recording_user_id(session)
    batches = measurements = 0
    for data in BATCHES:
        if data.batch_number in existing:
            continue
        readings = [
            BatchMeasurement(
                measured_at=reading.measured_at,
                specific_gravity=reading.specific_gravity,
                brix=reading.brix,
                ph=reading.ph,
                abv=reading.abv,
                temperature_c=reading.temperature_c,
                notes=reading.notes,
                measured_by=recorder,
            )
            for reading in data.measurements
        ]
        session.add(
            Batch(
                batch_number=data.batch_number,
                name=data.name,
                vessel_id=vessels[data.vessel.lower()].id if data.vessel else None,
                status=data.status,
                start_date=data.start_date,
                end_date=data.end_date,
                initial_volume_l=data.initial_volume_l,
                current_volume_l=data.current_volume_l,
                target_abv=data.target_abv,
                actual_abv=data.actual_abv,
                notes=data.notes,
                measurements=readings,
            )
        )
        batches += 1
        measurements += len(readings)
    session.flush()
    return {"batches": batches, "batch_measurements": measurements}


def seed_packages(session: Session) -> dict[str, int]:
    """A packaged run, its stock row and the production movement that stocked it.

    There is no unique index on packages; a run is the same run when it is of the
    same batch, on the same day, in the same bottle size.
    """
    batches = {
        batch.batch_number: batch for batch in session.scalars(select(Batch).where(live(Batch)))
    }
    existing = {
        (batch_id, package_date, bottle_size_ml)
        for batch_id, package_date, bottle_size_ml in session.execute(
            select(Package.batch_id, Package.package_date, Package.bottle_size_ml).where(
                live(Package)
            )
        )
    }
    recorder = _recording_user_id(session)
    counts = {"packages": 0, "inventory": 0, "inventory_transactions": 0}
    for data in PACKAGES:
        batch = batches[data.batch_number]
        if (batch.id, data.package_date, data.bottle_size_ml) in existing:
            continue
        package = Package(
            batch_id=batch.id,
            package_date=data.package_date,
            volume_packaged_l=data.volume_packaged_l,
            bottle_size_ml=data.bottle_size_ml,
            bottle_count=data.bottle_count,
            abv_at_packaging=data.abv_at_packaging,
        )
        stock = Inventory(
            package=package,
            current_bottle_count=data.bottle_count,
            reserved_bottle_count=data.reserved_bottle_count,
            location=data.stock_location,
        )
        # The stock count is explained by its movements: all of it came from production.
        stock.transactions = [
            InventoryTransaction(
                transaction_type=TransactionType.PRODUCTION,
                quantity_change=data.bottle_count,
                transaction_date=datetime.combine(data.package_date, time(), UTC),
                reason=f"Packaged from batch {data.batch_number}",
                created_by=recorder,
            )
        ]
        session.add_all([package, stock])
        counts["packages"] += 1
        counts["inventory"] += 1
        counts["inventory_transactions"] += 1
    session.flush()
    return counts


Step = Callable[[Session], dict[str, int]]


def seed_press_runs(session: Session) -> dict[str, int]:
    vendors = _live_by_key(session, Vendor, Vendor.name)
    vessels = _live_by_key(session, Vessel, Vessel.name)
    # A run has no natural key of its own; the sample runs are told apart by
    # grower and start time, which no two of them share.
    existing = set(
        session.execute(select(PressRun.vendor_id, PressRun.start_time).where(live(PressRun))).all()
    )
    lines = {
        (invoice, variety.lower()): item
        for invoice, variety, item in session.execute(
            select(Purchase.invoice_number, AppleVariety.name, PurchaseItem)
            .join(PurchaseItem.purchase)
            .join(PurchaseItem.apple_variety)
            .where(live(PurchaseItem, Purchase))
        ).all()
    }
    recorder = _recording_user_id(session)
    runs = loads = 0
    for data in PRESS_RUNS:
        vendor = vendors[data.vendor.lower()]
        if (vendor.id, data.start_time) in existing:
            continue
        run_loads = []
        for sequence, load in enumerate(data.loads, start=1):
            item = lines[(load.invoice_number, load.variety.lower())]
            run_loads.append(
                PressRunLoad(
                    purchase_item_id=item.id,
                    apple_variety_id=item.apple_variety_id,
                    load_sequence=sequence,
                    weight=load.weight,
                    weight_unit=load.weight_unit,
                    weight_kg=to_canonical(load.weight, load.weight_unit),
                    brix=load.brix,
                    ph=load.ph,
                    pressed_at=data.start_time,
                    created_by=recorder,
                )
            )
        juice_l = (
            to_canonical(data.juice_volume, data.juice_volume_unit)
            if data.juice_volume is not None and data.juice_volume_unit is not None
            else None
        )
        session.add(
            PressRun(
                vendor_id=vendor.id,
                vessel_id=vessels[data.vessel.lower()].id if data.vessel else None,
                status=data.status,
                start_time=data.start_time,
                end_time=data.end_time,
                total_apple_weight_kg=sum((load.weight_kg for load in run_loads), D(0)),
                juice_volume=data.juice_volume,
                juice_volume_unit=data.juice_volume_unit,
                total_juice_volume_l=juice_l,
                labor_hours=data.labor_hours,
                worker_count=data.worker_count,
                notes=data.notes,
                created_by=recorder,
                loads=run_loads,
            )
        )
        runs += 1
        loads += len(run_loads)
    session.flush()
    return {"press_runs": runs, "press_run_loads": loads}


def seed_juice_lots(session: Session) -> dict[str, int]:
    """The juice lots of the sample runs split across vessels, written as a completion
    writes them (:func:`cidery.press.lots.write_lots`): a batch in each vessel linked to
    its run with the litres it received, and each lot's cost from the priced lines.

    A run whose lots exist is left alone, but for lots written without their cost (by
    an earlier version of the seed), which are costed. Sample rows are not audited, as
    no other step's are.
    """
    vendors = _live_by_key(session, Vendor, Vendor.name)
    vessels = _live_by_key(session, Vessel, Vessel.name)
    recorder = _recording_user_id(session)
    tables = ("batches", "press_run_batches", "batch_costs", "cogs_items")
    before = _counts(session, tables)
    for data in PRESS_RUNS:
        if not data.lots or data.end_time is None:
            continue
        run = session.scalars(
            select(PressRun).where(
                PressRun.vendor_id == vendors[data.vendor.lower()].id,
                PressRun.start_time == data.start_time,
                live(PressRun),
            )
        ).one()
        linked = session.scalar(select(func.count()).where(PressRunBatch.press_run_id == run.id))
        if linked:
            costed = session.scalar(
                select(func.count())
                .select_from(PressRunBatch)
                .join(BatchCost, BatchCost.batch_id == PressRunBatch.batch_id)
                .where(PressRunBatch.press_run_id == run.id)
            )
            if not costed:
                lots.write_costs(session, _run_row(session, run.id), recorder)
            continue
        run.pomace_kg = data.pomace_kg
        run.labor_rate = data.labor_rate
        session.flush()
        lots.write_lots(
            session,
            _run_row(session, run.id),
            [(vessels[lot.vessel.lower()].id, lot.litres) for lot in data.lots],
            recorder,
        )
    after = _counts(session, tables)
    return {table: after[table] - before[table] for table in tables}


def _run_row(session: Session, run_id: uuid.UUID) -> RowMapping:
    return session.connection().execute(queries.LOCK_RUN, {"run_id": run_id}).mappings().one()


def _counts(session: Session, tables: tuple[str, ...]) -> dict[str, int]:
    # The lot writer writes through the connection: its rows are counted, not tracked.
    return {
        table: session.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
        for table in tables
    }


def seed_write_offs(session: Session) -> dict[str, int]:
    """What is left of the sample lines written off as waste, through the service (its
    rules and audit row), by the sample's recording user; a line with nothing left is
    skipped, so seeding again adds nothing."""
    recorder = Actor(user_id=_recording_user_id(session), role=UserRole.OPERATOR)
    added = 0
    for data in WRITE_OFFS:
        item_id = session.scalars(
            select(PurchaseItem.id)
            .join(PurchaseItem.purchase)
            .join(PurchaseItem.apple_variety)
            .where(
                Purchase.invoice_number == data.invoice_number,
                func.lower(AppleVariety.name) == data.variety.lower(),
                live(PurchaseItem, Purchase),
            )
        ).one()
        try:
            write_off_line(session, recorder, item_id, {"reason": data.reason})
        except NothingLeft:
            continue
        added += 1
    session.flush()
    return {"fruit_write_offs": added}


@dataclass(frozen=True)
class SeedStep:
    """A step and the tables it writes: the keys of the counts it returns.

    ``tables`` are the step's own (it is skipped when one is missing); ``also`` are
    tables of an earlier step it adds rows to as well (a juice lot is a batch).
    """

    run: Step
    tables: tuple[str, ...]
    also: tuple[str, ...] = ()


# In dependency order: each step may look up rows the earlier ones made.
STEPS: tuple[SeedStep, ...] = (
    SeedStep(seed_users, ("users",)),
    SeedStep(seed_api_tokens, ("api_tokens",)),
    SeedStep(seed_vendors, ("vendors",)),
    SeedStep(seed_varieties, ("apple_varieties",)),
    SeedStep(seed_purchases, ("purchases", "purchase_items")),
    SeedStep(seed_vessels, ("vessels",)),
    SeedStep(seed_batches, ("batches", "batch_measurements")),
    SeedStep(seed_packages, ("packages", "inventory", "inventory_transactions")),
    SeedStep(seed_press_runs, ("press_runs", "press_run_loads")),
    SeedStep(
        seed_juice_lots, ("press_run_batches", "batch_costs", "cogs_items"), also=("batches",)
    ),
    SeedStep(seed_write_offs, ("fruit_write_offs",)),
)


def _missing_tables(session: Session, tables: tuple[str, ...]) -> list[str]:
    """The ``tables`` not present in this database (resolved on the search_path, as the ORM's)."""
    present = session.execute(
        text(
            "SELECT name FROM unnest(CAST(:names AS text[])) AS name "
            "WHERE to_regclass(name) IS NOT NULL"
        ),
        {"names": list(tables)},
    ).scalars()
    found = set(present)
    return [table for table in tables if table not in found]


def seed(session: Session) -> SeedReport:
    """Add whatever sample rows are missing; flush, and leave the commit to the caller.

    Steps whose tables this database does not have yet (it is at an earlier
    revision) are skipped and reported in :attr:`SeedReport.skipped`.
    """
    report = SeedReport()
    for step in STEPS:
        if _missing_tables(session, step.tables):
            report.skipped.extend(step.tables)
            continue
        for table, added in step.run(session).items():
            report.inserted[table] = report.inserted.get(table, 0) + added
    return report
