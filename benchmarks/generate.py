"""A season-scale cidery, generated and bulk-loaded for the benchmarks
(``python -m benchmarks generate``).

:func:`generate` fills a database migrated to head with an internally
consistent data set of the size a :class:`~benchmarks.scales.Scale` asks
for, deterministic for a given seed (every id, timestamp and amount is drawn
from one ``random.Random(seed)``; nothing depends on the clock):

* **users**: one admin, one viewer and the scale's operators (the last one has
  left: inactive and soft-deleted); every run and load names its operator in
  ``created_by``/``updated_by``;
* **vendors** (growers) of very different sizes; about 5 % inactive and 3 %
  soft-deleted (at least one of each), and those stopped supplying before the
  latest season;
* **apple varieties** (real cider varieties), each grower growing a few;
* **purchases** per grower per season (invoices of one to four lines) and
  **purchase items** entered in kg, lb or bushels, ``quantity_kg`` computed
  with the exact factor of :mod:`cidery.units` and rounded half away from zero
  as PostgreSQL's ``round`` does; a few lines nothing was drawn on are
  soft-deleted (entry mistakes);
* **vessels** of every type and every status;
* **press runs** over the seasons (1 September to 30 November of each year,
  the latest season being :data:`LATEST_SEASON`): the latest-started 1 % of all
  runs, all in the latest season and all for active growers, are still
  ``in_progress`` (no end time, no juice yet); 8 % are ``cancelled``; the rest
  are ``completed`` into a vessel large enough for their juice, entered in L
  or gal, at 0.55-0.75 L/kg with 3 % outliers anywhere in (0.3, 1.0); 0.5 % of
  the finished runs are soft-deleted;
* **loads** numbered 1..n in each run, in kg or lb, drawn on purchase lines of
  the run's grower bought on or before the run's day; about 2 % are voided
  (soft-deleted, at least one), never the last live load of a run. A run's
  ``total_apple_weight_kg`` is the sum of its live loads' ``weight_kg``.

**No purchase line is over-pressed, however one counts**: a line's
``quantity_kg`` is at least the sum of the ``weight_kg`` of *every* load drawn
on it — voided loads and loads of cancelled or deleted runs included — so the
service's rule (live loads of live, uncancelled runs) holds a fortiori. A
line's ``pressed_kg`` is the sum over the loads that rule counts, computed
here as the loads are generated: exactly what the database's triggers
(revision 0003) would have written had the loads been added one by one. Lines
of past seasons are 80-100 % pressed (a third of them to the last kilogram);
lines of the latest season 35-70 %, so the in-progress runs and the write
benchmark have fruit left to press; lines bought after a grower's last run of
the season have nothing drawn on them.

**Loading.** Everything happens in one transaction, so a failure leaves the
database as it was: the generated tables are locked, checked empty (or
emptied with ``replace=True``), the secondary indexes and foreign keys of
``press_runs`` and ``press_run_loads`` are dropped (their definitions read
from the catalogs first), the rows are streamed in with ``COPY`` (text
format, built as strings in Python, never through the ORM), the dropped
indexes are rebuilt and the foreign keys added back with a plain ``ADD
CONSTRAINT``, which validates every row, then the tables are analysed and
the transaction committed. Users, growers, varieties and vessels go first;
the loads are then generated and streamed in one chunk at a time (PostgreSQL
inserts one chunk while Python builds the next), their runs' totals and their
purchase lines' consumption and ``pressed_kg`` adding up as they go; the
purchases, purchase lines and runs follow. The loads' row trigger that draws
on the purchase line (:data:`DRAW_TRIGGER`) is disabled for their COPY and
enabled again before the commit: fired for each of a million rows it would
cost a statement per load, and would update nothing anyway (the lines and
runs it looks for are copied after the loads). Loads before their runs and
lines is safe because the press tables' foreign keys are only re-added, and
checked, after all rows are in. ``COPY ... FREEZE`` is used for every table
emptied in this transaction (PostgreSQL then also marks its pages
all-visible, so index-only scans work at once), and a ``VACUUM`` after the
commit does the same for the others. The schema afterwards is exactly the
migrated one (:func:`cidery.migrations.checks.catalog.schema_snapshot`).

Audit rows are not generated: the history is loaded in bulk, not recorded
through the service.
"""

from __future__ import annotations

import bisect
import calendar
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from sqlalchemy import Engine

from benchmarks.scales import Scale
from cidery.errors import CideryError
from cidery.migrations import scripts

DEFAULT_SEED = 20261125

# The latest season; the seasons before it are the years before. Fixed, so a
# seed gives the same data whatever the date.
LATEST_SEASON = 2026
SEASON_DAYS = 91  # 1 September to 30 November

# What generate() writes, parents first.
TABLES: tuple[str, ...] = (
    "users",
    "vendors",
    "apple_varieties",
    "vessels",
    "purchases",
    "purchase_items",
    "press_runs",
    "press_run_loads",
)
# Their secondary indexes and foreign keys are dropped during the load.
PRESS_TABLES: tuple[str, ...] = ("press_runs", "press_run_loads")
# The loads' trigger that keeps purchase_items.pressed_kg (revision 0003); the
# generator writes that column itself (see the module's docstring).
DRAW_TRIGGER = ("press_run_loads", "press_run_loads_draw_fruit")

# Progress steps after the rows are in, reported like tables.
STEP_INDEXES = "rebuild indexes"
STEP_FOREIGN_KEYS = "validate foreign keys"
STEP_VACUUM = "vacuum"

IN_PROGRESS_SHARE = 0.01
CANCELLED_SHARE = 0.08
DELETED_RUN_SHARE = 0.005
VOIDED_LOAD_SHARE = 0.02
INACTIVE_VENDOR_SHARE = 0.05
DELETED_VENDOR_SHARE = 0.03

CHUNK_ROWS = 20_000
LOCK_TIMEOUT = "10s"

Progress = Callable[[str, int, int], None]


@dataclass
class GenerationReport:
    """What :func:`generate` wrote: rows per table, and how long it took."""

    scale: str
    seed: int
    rows: dict[str, int]
    seconds: float
    # Seconds per phase: "load" (generate and COPY), "indexes", "foreign keys",
    # "analyze", "commit", "vacuum".
    phases: dict[str, float] = field(default_factory=dict)
    # replace=True: the rows each emptied table held before (the generated tables
    # and those TRUNCATE ... CASCADE reached through their foreign keys).
    replaced: dict[str, int] = field(default_factory=dict)


# --- names ----------------------------------------------------------------------------

_PLACES = (
    "Hillside", "Bramble Creek", "Old Mill", "Two Rivers", "Cedar Hollow", "Maple Ridge",
    "Stone Wall", "Willow Bend", "Orchard Hill", "Red Barn", "Fox Run", "Pine Hollow",
    "Clover Field", "Blue Heron", "Quarry Road", "North Star", "Sugar Bush", "High Meadow",
    "Apple Valley", "Windy Hill", "Crooked Fence", "Silver Brook", "Elm Tree", "Hawthorn",
    "Longview", "Mill Pond", "Deer Path", "Riverbend", "Sunny Slope", "Wild Rose",
)  # fmt: skip
_KINDS = (
    "Orchard", "Farm", "Growers", "Fruit Co.", "Orchards", "Family Farm", "Cider Apples",
    "Homestead", "Fruit Farm", "Apple Barn",
)  # fmt: skip
_STATES = (("VT", "802"), ("NY", "518"), ("MA", "413"), ("NH", "603"), ("ME", "207"))

# name, typical Brix (hundredths), style
_VARIETIES: tuple[tuple[str, int, str], ...] = (
    ("Kingston Black", 1550, "bittersharp"), ("Dabinett", 1400, "bittersweet"),
    ("Yarlington Mill", 1450, "bittersweet"), ("Golden Russet", 1700, "sharp"),
    ("Northern Spy", 1350, "sharp"), ("Gravenstein", 1250, "sharp"),
    ("McIntosh", 1150, "dessert"), ("Wickson", 2000, "crab"),
    ("Ashmead's Kernel", 1600, "sharp"), ("Baldwin", 1300, "sharp"),
    ("Roxbury Russet", 1500, "sharp"), ("Esopus Spitzenburg", 1450, "sharp"),
    ("Harrison", 1700, "sharp"), ("Hewe's Crab", 1800, "crab"),
    ("Porter's Perfection", 1500, "bittersharp"), ("Somerset Redstreak", 1300, "bittersweet"),
    ("Chisel Jersey", 1500, "bittersweet"), ("Brown Snout", 1400, "bittersweet"),
    ("Tremlett's Bitter", 1400, "bittersweet"), ("Ellis Bitter", 1300, "bittersweet"),
    ("Michelin", 1300, "bittersweet"), ("Bulmer's Norman", 1300, "bittersweet"),
    ("Foxwhelp", 1300, "bittersharp"), ("Stoke Red", 1450, "bittersharp"),
    ("Harry Masters Jersey", 1450, "bittersweet"), ("Browns Apple", 1250, "sharp"),
    ("Frequin Rouge", 1400, "bittersweet"), ("Medaille d'Or", 1800, "bittersweet"),
    ("Bramley", 1150, "culinary"), ("Cox's Orange Pippin", 1350, "dessert"),
    ("Egremont Russet", 1400, "dessert"), ("Newtown Pippin", 1450, "sharp"),
    ("Winesap", 1400, "sharp"), ("Black Twig", 1450, "sharp"), ("Redfield", 1250, "sharp"),
    ("Dolgo Crab", 1600, "crab"), ("Binet Rouge", 1400, "bittersweet"),
    ("Bedan", 1450, "bittersweet"), ("Muscadet de Dieppe", 1350, "bittersweet"),
    ("Kermerrien", 1400, "bittersweet"), ("Calville Blanc", 1300, "sharp"),
    ("Rhode Island Greening", 1200, "sharp"), ("Liberty", 1250, "dessert"),
    ("Jonathan", 1300, "dessert"), ("Honeycrisp", 1250, "dessert"),
)  # fmt: skip
_FIRST = ("Sam", "Alex", "Jordan", "Casey", "Riley", "Morgan", "Avery", "Quinn", "Jamie", "Taylor")
_LAST = (
    "Ortiz", "Hale", "Chen", "Novak", "Brennan", "Okafor", "Lindqvist", "Moreau", "Sato",
    "Walsh", "Duarte", "Keller",
)  # fmt: skip
_CANCEL_REASONS = (
    "press cloth tore",
    "grower asked to hold the fruit back",
    "pump failure",
    "fruit too green, sent back to sweat",
    "started under the wrong grower",
)
_DELETE_NOTES = ("Entered twice by mistake.", "Test entry from the tablet.")
_RUN_NOTES = (
    "Rack and cloth; two pressings.",
    "Fruit sweated ten days.",
    "Some rot sorted out at the mill.",
    "Cold morning, slow first load.",
)
# Vessel types, their name prefix and capacity range in litres; the first
# ones receive juice straight from the press.
_VESSEL_KINDS: tuple[tuple[str, str, int, int], ...] = (
    ("fermenter", "FV", 8_000, 40_000),
    ("storage", "ST", 20_000, 60_000),
    ("conditioning_tank", "CT", 5_000, 25_000),
    ("bright_tank", "BT", 2_000, 10_000),
    ("barrel", "BBL", 225, 500),
)
_VESSEL_STATUSES = ("available", "in_use", "cleaning", "maintenance")
_LOCATIONS = ("Cellar bay 1", "Cellar bay 2", "Press house", "Tank farm", "Barrel room")

# Unit factors as integers (see cidery.units): grams per lb x 10^5, per bushel
# (42 lb) x 10^5, millilitres per tenth of a US gallon x 10^7.
_G_PER_LB_E5 = 45_359_237
_G_PER_BUSHEL_E5 = 42 * _G_PER_LB_E5
_ML_PER_TENTH_GAL_E7 = 3_785_411_784
# The most grams a quantity in lb may stand for in a numeric(10,3) column.
_MAX_LB_AS_GRAMS = 9_000_000 * _G_PER_LB_E5 // 100_000


# --- small helpers --------------------------------------------------------------------


def _round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (both positive), like round()."""
    return (2 * numerator + denominator) // (2 * denominator)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _thousandths(value: int) -> str:
    """An integer number of thousandths as numeric text: 1234 -> '1.234'."""
    return f"{value // 1000}.{value % 1000:03d}"


def _hundredths(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def _escape(value: str) -> str:
    """A value for COPY's text format (backslash, tab and line breaks escaped)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


class _Clock:
    """Timestamps as integer seconds since the epoch (UTC), formatted for COPY."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def day(self, day_number: int) -> str:
        text = self._days.get(day_number)
        if text is None:
            text = (date(1970, 1, 1) + timedelta(days=day_number)).isoformat()
            self._days[day_number] = text
        return text

    def ts(self, seconds: int) -> str:
        day_number, rest = divmod(seconds, 86_400)
        return f"{self.day(day_number)} {rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}+00"


def _uuid_from(bits: int) -> str:
    """A version-4 UUID's text from 128 random bits."""
    bits = (bits & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _apportion(total: int, weights: Sequence[float], minimum: int = 1) -> list[int]:
    """Split ``total`` into ``len(weights)`` integers, each at least ``minimum``,
    proportional to the weights beyond that (largest remainders)."""
    spare = total - minimum * len(weights)
    if spare < 0:
        raise ValueError(f"cannot split {total} into {len(weights)} parts of {minimum} or more")
    weight_sum = sum(weights)
    shares = [spare * weight / weight_sum for weight in weights]
    counts = [int(share) for share in shares]
    left = spare - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: counts[i] - shares[i])
    for i in order[:left]:
        counts[i] += 1
    return [count + minimum for count in counts]


# --- the data set, planned then written as COPY text -------------------------------------


@dataclass
class _Vendor:
    id: str
    name: str
    active: bool
    deleted: bool
    weight: float
    last_season: int
    varieties: list[int]


@dataclass
class _Slot:
    """One grower's purchases and runs in one season."""

    vendor: int
    season: int
    items: list[int] = field(default_factory=list)  # global item indexes, by purchase day
    item_days: list[int] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)  # global run indexes, by start time


class _Dataset:
    """The plan (who, when, how many) and the COPY text of each table.

    The order of the random draws is fixed, so a seed always gives the same rows.
    """

    def __init__(self, scale: Scale, seed: int) -> None:
        self.scale = scale
        self.rng = random.Random(seed)
        self.clock = _Clock()
        self.years = [LATEST_SEASON - scale.seasons + 1 + i for i in range(scale.seasons)]
        self.season_start = [calendar.timegm((year, 9, 1, 0, 0, 0)) for year in self.years]
        self.first_day = self.season_start[0] // 86_400 - 60  # accounts and growers set up
        self.lines: dict[str, list[str]] = {}
        self._plan()

    def uuid(self) -> str:
        return _uuid_from(self.rng.getrandbits(128))

    # -- reference data ----------------------------------------------------------------

    def _plan(self) -> None:
        self._users()
        self._vendors()
        self._varieties()
        self._vessels()
        self._slots()
        self._runs()
        self._items()

    def _users(self) -> None:
        rng, scale = self.rng, self.scale
        created = self.clock.ts(self.first_day * 86_400 + 9 * 3600)
        people = [(f"{first} {last}") for first in _FIRST for last in _LAST]
        rng.shuffle(people)
        accounts = [("admin", "admin"), ("viewer", "viewer")] + [
            ("operator", f"operator{n:02d}") for n in range(1, scale.operators + 1)
        ]
        self.user_ids: list[str] = []
        self.operators: list[int] = []  # indexes into user_ids of operators still working
        lines = []
        for index, (role, local) in enumerate(accounts):
            user_id = self.uuid()
            self.user_ids.append(user_id)
            name = people[index % len(people)]
            if index >= len(people):
                name += f" {index // len(people) + 1}"
            left = role == "operator" and index == len(accounts) - 1 and scale.operators > 1
            if role == "operator" and not left:
                self.operators.append(index)
            updated, deleted = created, "\\N"
            if left:  # before the latest season
                updated = deleted = self.clock.ts(self.season_start[-1] - 30 * 86_400 + 17 * 3600)
            lines.append(
                f"{user_id}\t{local}@bench.cidery.example\t{_escape(name)}\tbench-not-a-login\t"
                f"{role}\t{'f' if left else 't'}\t\\N\t{created}\t{updated}\t{deleted}\n"
            )
        # The operator who left recorded history too.
        self.all_operators = [i for i, (role, _) in enumerate(accounts) if role == "operator"]
        self.lines["users"] = lines

    def _vendors(self) -> None:
        rng, scale = self.rng, self.scale
        names = [f"{place} {kind}" for place in _PLACES for kind in _KINDS]
        rng.shuffle(names)
        while len(names) < scale.vendors:
            names.extend(f"{name} {len(names) // 300 + 1}" for name in names[:300])
        count = scale.vendors
        inactive = max(1, round(count * INACTIVE_VENDOR_SHARE)) if count >= 3 else 0
        deleted = max(1, round(count * DELETED_VENDOR_SHARE)) if count >= 3 else 0
        retired = rng.sample(range(count), inactive + deleted)
        inactive_set = set(retired[:inactive])
        deleted_set = set(retired[inactive:])
        created = self.clock.ts(self.first_day * 86_400 + 10 * 3600)
        self.vendors: list[_Vendor] = []
        lines = []
        for index in range(count):
            name = names[index]
            retired_vendor = index in inactive_set or index in deleted_set
            last = self.scale.seasons - 1
            if retired_vendor and self.scale.seasons > 1:
                last = rng.randrange(self.scale.seasons - 1)
            vendor = _Vendor(
                id=self.uuid(),
                name=name,
                active=not retired_vendor,
                deleted=index in deleted_set,
                weight=rng.lognormvariate(0, 0.8),
                last_season=last,
                varieties=[],
            )
            self.vendors.append(vendor)
            state, area = _STATES[index % len(_STATES)]
            slug = "".join(ch for ch in name.lower() if ch.isalnum())
            contact = json.dumps(
                {
                    "phone": f"+1 {area}-555-01{index % 100:02d}",
                    "email": f"orders@{slug}.example",
                    "address": f"{rng.randint(1, 999)} Orchard Road, {state}",
                }
            )
            deleted_at = "\\N"
            if vendor.deleted:
                day = (self.season_start[last] // 86_400) + SEASON_DAYS + rng.randint(10, 60)
                deleted_at = self.clock.ts(day * 86_400 + 11 * 3600)
            updated = created if deleted_at == "\\N" else deleted_at
            lines.append(
                f"{vendor.id}\t{_escape(name)}\t{_escape(contact)}\t"
                f"{'t' if vendor.active else 'f'}\t{created}\t{updated}\t{deleted_at}\n"
            )
        self.lines["vendors"] = lines

    def _varieties(self) -> None:
        rng, scale = self.rng, self.scale
        created = self.clock.ts(self.first_day * 86_400 + 10 * 3600)
        self.variety_ids: list[str] = []
        self.variety_brix: list[int] = []
        lines = []
        for index in range(scale.varieties):
            name, brix, style = _VARIETIES[index % len(_VARIETIES)]
            if index >= len(_VARIETIES):
                name = f"{name} (clone {index // len(_VARIETIES) + 1})"
            variety_id = self.uuid()
            self.variety_ids.append(variety_id)
            self.variety_brix.append(brix)
            lines.append(
                f"{variety_id}\t{_escape(name)}\t{style.capitalize()} cider apple.\t"
                f"{_hundredths(brix)}\t{created}\t{created}\t\\N\n"
            )
        self.lines["apple_varieties"] = lines
        # Popular varieties are grown by many growers; each grows two to six.
        popularity = [1.0 / (rank + 1) ** 0.7 for rank in range(scale.varieties)]
        for vendor in self.vendors:
            wanted = min(scale.varieties, rng.randint(2, 6))
            chosen: list[int] = []
            while len(chosen) < wanted:
                pick = rng.choices(range(scale.varieties), popularity)[0]
                if pick not in chosen:
                    chosen.append(pick)
            vendor.varieties = chosen

    def _vessels(self) -> None:
        rng, scale = self.rng, self.scale
        created = self.clock.ts(self.first_day * 86_400 + 8 * 3600)
        self.vessel_ids: list[str] = []
        self.vessel_capacity_ml: list[int] = []
        self.press_vessels: list[int] = []  # vessels juice goes into from the press
        numbers: dict[str, int] = {}
        lines = []
        for index in range(scale.vessels):
            # Every type and every status first, then mostly fermenters and storage.
            if index < len(_VESSEL_KINDS):
                kind = _VESSEL_KINDS[index]
            else:
                kind = rng.choices(_VESSEL_KINDS, (6, 3, 2, 1, 1))[0]
            if index < len(_VESSEL_STATUSES):
                status = _VESSEL_STATUSES[index]
            else:
                status = rng.choices(_VESSEL_STATUSES, (5, 6, 2, 1))[0]
            vtype, prefix, low, high = kind
            numbers[prefix] = numbers.get(prefix, 0) + 1
            capacity_l = rng.randint(low // 100, high // 100) * 100 if low >= 1000 else low
            vessel_id = self.uuid()
            self.vessel_ids.append(vessel_id)
            self.vessel_capacity_ml.append(capacity_l * 1000)
            if vtype in ("fermenter", "storage", "conditioning_tank"):
                self.press_vessels.append(index)
            location = _LOCATIONS[index % len(_LOCATIONS)]
            lines.append(
                f"{vessel_id}\t{prefix}-{numbers[prefix]:03d}\t{vtype}\t{status}\t"
                f"{capacity_l}.000\t{location}\t\\N\t{created}\t{created}\t\\N\n"
            )
        self.press_vessels.sort(key=lambda i: self.vessel_capacity_ml[i])
        self.lines["vessels"] = lines

    # -- the seasons: who supplied when, and how much -------------------------------------

    def _slots(self) -> None:
        rng, scale = self.rng, self.scale
        self.slots: list[_Slot] = []
        weights: list[float] = []
        for season in range(scale.seasons):
            for index, vendor in enumerate(self.vendors):
                if season <= vendor.last_season:
                    self.slots.append(_Slot(index, season))
                    weights.append(vendor.weight * rng.uniform(0.7, 1.3))
        if scale.purchase_items < len(self.slots) or scale.runs < len(self.slots):
            raise CideryError(
                f"scale {scale.name} is inconsistent: {len(self.slots)} grower-seasons need at "
                "least as many purchase items and runs"
            )
        if scale.loads < scale.runs:
            raise CideryError(f"scale {scale.name} is inconsistent: fewer loads than runs")
        self.slot_weights = weights

    def _runs(self) -> None:
        rng, scale = self.rng, self.scale
        per_slot = _apportion(scale.runs, self.slot_weights)
        self.run_slot: list[int] = []
        self.run_start: list[int] = []
        for slot_index, (slot, count) in enumerate(zip(self.slots, per_slot, strict=True)):
            base = self.season_start[slot.season]
            starts = sorted(
                base + rng.randrange(SEASON_DAYS) * 86_400 + rng.randint(6 * 3600, 16 * 3600)
                for _ in range(count)
            )
            for start in starts:
                slot.runs.append(len(self.run_start))
                self.run_slot.append(slot_index)
                self.run_start.append(start)
        total = len(self.run_start)
        self.run_ids = [self.uuid() for _ in range(total)]
        self.run_loads = _apportion(
            scale.loads, [rng.uniform(0.3, 1.7) for _ in range(total)], minimum=1
        )
        # Status: the newest runs of the latest season, for growers still supplying,
        # are being pressed now; a random 8 % of the rest were cancelled.
        latest = scale.seasons - 1
        candidates = [
            run
            for run in range(total)
            if self.slots[self.run_slot[run]].season == latest
            and self.vendors[self.slots[self.run_slot[run]].vendor].active
        ]
        candidates.sort(key=lambda run: (self.run_start[run], run), reverse=True)
        open_count = min(len(candidates), max(1, round(total * IN_PROGRESS_SHARE)))
        self.run_status = ["completed"] * total
        for run in candidates[:open_count]:
            self.run_status[run] = "in_progress"
        finished = [run for run in range(total) if self.run_status[run] != "in_progress"]
        cancelled = max(1, round(total * CANCELLED_SHARE))
        for run in rng.sample(finished, min(cancelled, len(finished) - 1)):
            self.run_status[run] = "cancelled"
        self.run_deleted = [False] * total
        deleted = max(1, round(total * DELETED_RUN_SHARE))
        for run in rng.sample(finished, min(deleted, len(finished))):
            self.run_deleted[run] = True
        self.run_operator = [
            rng.choice(
                self.operators
                if self.slots[self.run_slot[run]].season == latest
                else self.all_operators
            )
            for run in range(total)
        ]

    def _items(self) -> None:
        """Purchase lines per slot, grouped in invoices dated before the runs that use them."""
        rng = self.rng
        per_slot = _apportion(self.scale.purchase_items, self.slot_weights)
        self.item_ids: list[str] = []
        self.item_purchase: list[int] = []
        self.item_variety: list[int] = []
        self.item_unit: list[str] = []
        self.item_day: list[int] = []
        self.purchase_ids: list[str] = []
        self.purchase_vendor: list[int] = []
        self.purchase_day: list[int] = []
        self.purchase_invoice: list[str] = []
        invoice_numbers: dict[tuple[int, int], int] = {}
        for slot, count in zip(self.slots, per_slot, strict=True):
            vendor = self.vendors[slot.vendor]
            run_days = [self.run_start[run] // 86_400 for run in slot.runs]
            first = run_days[0] - rng.randint(0, 4)
            last = max(run_days[-1], first)
            sizes: list[int] = []
            while sum(sizes) < count:
                sizes.append(min(count - sum(sizes), rng.randint(1, 4)))
            days = sorted([first] + [rng.randint(first, last) for _ in sizes[1:]])
            for size, day in zip(sizes, days, strict=True):
                purchase = len(self.purchase_ids)
                self.purchase_ids.append(self.uuid())
                self.purchase_vendor.append(slot.vendor)
                self.purchase_day.append(day)
                key = (slot.vendor, slot.season)
                invoice_numbers[key] = invoice_numbers.get(key, 0) + 1
                self.purchase_invoice.append(
                    f"G{slot.vendor + 1:03d}-{self.years[slot.season]}-{invoice_numbers[key]:03d}"
                )
                for _ in range(size):
                    item = len(self.item_ids)
                    self.item_ids.append(self.uuid())
                    self.item_purchase.append(purchase)
                    self.item_variety.append(rng.choice(vendor.varieties))
                    self.item_unit.append(rng.choices(("kg", "lb", "bushel"), (50, 35, 15))[0])
                    self.item_day.append(day)
                    slot.items.append(item)
                    slot.item_days.append(day)
        self.item_used_g = [0] * len(self.item_ids)
        # What the triggers count: live loads of runs neither cancelled nor deleted.
        self.item_pressed_g = [0] * len(self.item_ids)

    # -- loads, then the runs they add up to ----------------------------------------------

    def loads(self) -> Iterator[list[str]]:
        """COPY text of press_run_loads, in chunks; fills in the runs' lines as it goes."""
        rng = self.rng
        rand = rng.random
        randrange = rng.randrange
        getrandbits = rng.getrandbits
        ts = self.clock.ts
        item_ids, item_variety, item_used = self.item_ids, self.item_variety, self.item_used_g
        item_pressed = self.item_pressed_g
        variety_ids, variety_brix = self.variety_ids, self.variety_brix
        run_lines: list[str] = []
        self.lines["press_runs"] = run_lines
        chunk: list[str] = []
        forced_void = False
        for slot in self.slots:
            for run in slot.runs:
                start = self.run_start[run]
                count = self.run_loads[run]
                run_id = self.run_ids[run]
                operator = self.user_ids[self.run_operator[run]]
                draws = self.run_status[run] != "cancelled" and not self.run_deleted[run]
                # The lines on hand that day; the freshest deliveries are pressed first.
                eligible = bisect.bisect_right(slot.item_days, start // 86_400)
                window = slot.items[max(0, eligible - 3) : eligible]
                primary = window[randrange(len(window))]
                moment = last_pressed = start + randrange(600)
                live = 0
                live_g = 0
                for sequence in range(1, count + 1):
                    item = primary if rand() < 0.75 else window[randrange(len(window))]
                    if rand() < 0.7:
                        tenths = 1500 + randrange(10_500)  # 150.0-1199.9 kg
                        grams = tenths * 100
                        weight = f"{tenths // 10}.{tenths % 10}"
                        unit = "kg"
                    else:
                        pounds = 330 + randrange(2_320)  # 330-2649 lb
                        grams = _round_div(pounds * _G_PER_LB_E5, 100_000)
                        weight = f"{pounds}.0"
                        unit = "lb"
                    item_used[item] += grams
                    variety = item_variety[item]
                    brix = (
                        "\\N"
                        if rand() < 0.1
                        else _hundredths(variety_brix[variety] - 150 + randrange(301))
                    )
                    ph = "\\N" if rand() < 0.3 else f"3.{randrange(100):02d}"
                    pressed = ts(moment)
                    remaining = count - sequence
                    void = (rand() < VOIDED_LOAD_SHARE or (not forced_void and count > 1)) and (
                        live > 0 or remaining > 0
                    )
                    if void:
                        forced_void = True
                        voided = ts(moment + 60 + randrange(600))
                        updated, deleted = voided, voided
                    else:
                        live += 1
                        live_g += grams
                        if draws:
                            item_pressed[item] += grams
                        updated, deleted = pressed, "\\N"
                    bits = getrandbits(128)
                    bits = (
                        (bits & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
                    )
                    h = f"{bits:032x}"
                    chunk.append(
                        f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}\t{run_id}\t"
                        f"{item_ids[item]}\t{variety_ids[variety]}\t{sequence}\t{weight}\t{unit}\t"
                        f"{grams // 1000}.{grams % 1000:03d}\t\\N\t{brix}\t{ph}\t\\N\t"
                        f"{pressed}\t{pressed}\t{updated}\t{deleted}\t{operator}\t{operator}\n"
                    )
                    last_pressed = moment
                    moment += 480 + randrange(1_020)
                    if len(chunk) >= CHUNK_ROWS:
                        yield chunk
                        chunk = []
                run_lines.append(self._run_line(run, slot, last_pressed, live_g, operator))
        if chunk:
            yield chunk

    def _run_line(
        self, run: int, slot: _Slot, last_pressed: int, live_g: int, operator: str
    ) -> str:
        rng, ts = self.rng, self.clock.ts
        start = self.run_start[run]
        status = self.run_status[run]
        notes = "\\N"
        vessel = juice = juice_unit = juice_l = labor = workers = end = "\\N"
        end_seconds = last_pressed
        if status == "in_progress":
            updated = ts(last_pressed)
        else:
            end_seconds = last_pressed + rng.randint(900, 3_600)
            end = updated = ts(end_seconds)
            if status == "cancelled":
                notes = f"Cancelled: {rng.choice(_CANCEL_REASONS)}"
            else:
                rate = rng.uniform(0.55, 0.75) if rng.random() < 0.97 else rng.uniform(0.31, 0.99)
                target_ml = max(1, int(live_g * rate))
                if rng.random() < 0.75:
                    tenths = max(1, _round_div(target_ml, 100))
                    juice, juice_unit = f"{tenths // 10}.{tenths % 10}", "L"
                    juice_ml = tenths * 100
                else:
                    tenths = max(1, _round_div(target_ml * 10**7, _ML_PER_TENTH_GAL_E7))
                    juice, juice_unit = f"{tenths // 10}.{tenths % 10}", "gal"
                    juice_ml = _round_div(tenths * _ML_PER_TENTH_GAL_E7, 10**7)
                juice_l = _thousandths(juice_ml)
                vessel = self.vessel_ids[self._vessel_for(juice_ml)]
                crew = rng.randint(2, 5)
                labor = _hundredths(_round_div((end_seconds - start) * crew * 100, 3600))
                workers = str(crew)
                if rng.random() < 0.05:
                    notes = rng.choice(_RUN_NOTES)
        deleted = "\\N"
        if self.run_deleted[run]:
            deleted = updated = ts(end_seconds + rng.randint(3_600, 5 * 86_400))
            notes = _escape(rng.choice(_DELETE_NOTES)) if notes == "\\N" else notes
        started = ts(start)
        return (
            f"{self.run_ids[run]}\t{self.vendors[slot.vendor].id}\t{vessel}\t{status}\t"
            f"{started}\t{end}\t{_thousandths(live_g)}\t{juice}\t{juice_unit}\t{juice_l}\t"
            f"{labor}\t{workers}\t{notes}\t{started}\t{updated}\t{deleted}\t{operator}\t{operator}\n"
        )

    def _vessel_for(self, juice_ml: int) -> int:
        """A press vessel that holds the juice; the largest when none does."""
        vessels = self.press_vessels
        capacities = self.vessel_capacity_ml
        for _ in range(4):
            pick = vessels[self.rng.randrange(len(vessels))]
            if capacities[pick] >= juice_ml:
                return pick
        return vessels[-1]

    # -- purchases, once the loads have said how much each line must hold ----------------

    def purchases(self) -> None:
        rng, day = self.rng, self.clock.day
        latest = self.scale.seasons - 1
        item_lines: list[str] = []
        purchase_cents = [0] * len(self.purchase_ids)
        item_deleted = [False] * len(self.item_ids)
        for slot in self.slots:
            used = [self.item_used_g[item] for item in slot.items if self.item_used_g[item]]
            typical = sum(used) // len(used) if used else 5_000_000
            for item in slot.items:
                consumed = self.item_used_g[item]
                if consumed == 0:
                    needed = rng.randint(typical // 2, typical * 3 // 2) + 1000
                    item_deleted[item] = rng.random() < 0.3
                elif slot.season == latest:
                    needed = _ceil_div(consumed * 1000, rng.randint(350, 700))
                elif rng.random() < 0.3:
                    needed = consumed  # pressed to the last kilogram
                else:
                    needed = _ceil_div(consumed * 1000, rng.randint(800, 1000))
                # Rounded up in the unit as entered, so quantity_kg >= needed >= consumed.
                unit = self.item_unit[item]
                if unit == "lb" and needed > _MAX_LB_AS_GRAMS:
                    unit = self.item_unit[item] = "kg"  # numeric(10,3) holds < 10^7 lb
                if unit == "kg":
                    tenths = _ceil_div(needed, 100)
                    quantity, grams = f"{tenths // 10}.{tenths % 10}", tenths * 100
                    price = rng.randint(3_000, 9_000)  # $0.30-0.90 per kg
                    cents = _round_div(tenths * price, 1_000)
                elif unit == "lb":
                    pounds = _ceil_div(needed * 100_000, _G_PER_LB_E5)
                    quantity, grams = f"{pounds}", _round_div(pounds * _G_PER_LB_E5, 100_000)
                    price = rng.randint(1_500, 4_000)  # $0.15-0.40 per lb
                    cents = _round_div(pounds * price, 100)
                else:
                    bushels = _ceil_div(needed * 100_000, _G_PER_BUSHEL_E5)
                    quantity = f"{bushels}"
                    grams = _round_div(bushels * _G_PER_BUSHEL_E5, 100_000)
                    price = rng.randint(80_000, 200_000)  # $8-20 per bushel
                    cents = _round_div(bushels * price, 100)
                assert grams >= consumed, "a purchase line would be over-pressed"
                purchase = self.item_purchase[item]
                if not item_deleted[item]:  # a purchase costs what its live lines cost
                    purchase_cents[purchase] += cents
                bought = self.item_day[item]
                entered = self.clock.ts(bought * 86_400 + 10 * 3600)
                deleted = "\\N"
                if item_deleted[item]:
                    deleted = self.clock.ts(bought * 86_400 + 15 * 3600)
                item_lines.append(
                    f"{self.item_ids[item]}\t{self.purchase_ids[purchase]}\t"
                    f"{self.variety_ids[self.item_variety[item]]}\t{quantity}\t{unit}\t"
                    f"{_thousandths(grams)}\t\\N\t{_thousandths(self.item_pressed_g[item])}\t"
                    f"{price // 10_000}.{price % 10_000:04d}\t"
                    f"{_hundredths(cents)}\t{day(bought - rng.randint(0, 7))}\t\\N\t"
                    f"{entered}\t{deleted if item_deleted[item] else entered}\t{deleted}\n"
                )
        purchase_lines = []
        for purchase, purchase_id in enumerate(self.purchase_ids):
            bought = self.purchase_day[purchase]
            entered = self.clock.ts(bought * 86_400 + 10 * 3600)
            purchase_lines.append(
                f"{purchase_id}\t{self.vendors[self.purchase_vendor[purchase]].id}\t"
                f"{day(bought)}\t{self.purchase_invoice[purchase]}\t"
                f"{_hundredths(purchase_cents[purchase])}\t\\N\t{entered}\t{entered}\t\\N\n"
            )
        self.lines["purchases"] = purchase_lines
        self.lines["purchase_items"] = item_lines


COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id", "email", "name", "password_hash", "role", "is_active", "last_login_at",
        "created_at", "updated_at", "deleted_at",
    ),
    "vendors": (
        "id", "name", "contact_info", "is_active", "created_at", "updated_at", "deleted_at",
    ),
    "apple_varieties": (
        "id", "name", "description", "typical_brix", "created_at", "updated_at", "deleted_at",
    ),
    "vessels": (
        "id", "name", "type", "status", "capacity_l", "location", "notes", "created_at",
        "updated_at", "deleted_at",
    ),
    "purchases": (
        "id", "vendor_id", "purchase_date", "invoice_number", "total_cost", "notes",
        "created_at", "updated_at", "deleted_at",
    ),
    "purchase_items": (
        "id", "purchase_id", "apple_variety_id", "quantity", "unit", "quantity_kg", "quantity_l",
        "pressed_kg", "price_per_unit", "total_cost", "harvest_date", "notes", "created_at",
        "updated_at", "deleted_at",
    ),
    "press_runs": (
        "id", "vendor_id", "vessel_id", "status", "start_time", "end_time",
        "total_apple_weight_kg", "juice_volume", "juice_volume_unit", "total_juice_volume_l",
        "labor_hours", "worker_count", "notes", "created_at", "updated_at", "deleted_at",
        "created_by", "updated_by",
    ),
    "press_run_loads": (
        "id", "press_run_id", "purchase_item_id", "apple_variety_id", "load_sequence", "weight",
        "weight_unit", "weight_kg", "juice_volume_l", "brix", "ph", "notes", "pressed_at",
        "created_at", "updated_at", "deleted_at", "created_by", "updated_by",
    ),
}  # fmt: skip


# --- the database side ----------------------------------------------------------------


@dataclass(frozen=True)
class _Dropped:
    """Definitions of what was dropped for the load, exactly as the catalogs print them."""

    indexes: list[tuple[str, str]]  # (name, CREATE INDEX ...)
    foreign_keys: list[tuple[str, str, str]]  # (table, name, FOREIGN KEY ... REFERENCES ...)


def _count(cur: psycopg.Cursor[Any], table: str) -> int:
    row = cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def _foreign_key_edges(cur: psycopg.Cursor[Any]) -> list[tuple[str, str]]:
    """(child, parent) for each foreign key between two tables of this schema."""
    rows = cur.execute(
        """
        SELECT DISTINCT child.relname, parent.relname
        FROM pg_constraint k
        JOIN pg_class child ON child.oid = k.conrelid
        JOIN pg_class parent ON parent.oid = k.confrelid
        WHERE k.contype = 'f' AND child.oid <> parent.oid
          AND child.relnamespace = current_schema()::regnamespace
          AND parent.relnamespace = current_schema()::regnamespace
        """
    ).fetchall()
    return [(str(child), str(parent)) for child, parent in rows]


def _referencing_closure(cur: psycopg.Cursor[Any], tables: Sequence[str]) -> list[str]:
    """``tables`` and every table whose foreign keys lead to one of them: what
    ``TRUNCATE ... CASCADE`` empties."""
    rows = _foreign_key_edges(cur)
    closure = list(tables)
    grew = True
    while grew:
        grew = False
        for child, parent in rows:
            if parent in closure and child not in closure:
                closure.append(child)
                grew = True
    return closure


def _truncatable(cur: psycopg.Cursor[Any], tables: Sequence[str]) -> list[str]:
    """The largest subset of ``tables`` that TRUNCATE can empty without CASCADE."""
    rows = _foreign_key_edges(cur)
    subset = list(tables)
    shrunk = True
    while shrunk:
        shrunk = False
        for child, parent in rows:
            if parent in subset and child not in subset:
                subset.remove(parent)
                shrunk = True
    return subset


def _check_head(engine: Engine) -> None:
    head = scripts.head()
    with engine.connect() as conn:
        current = scripts.current_revision(conn)
    if current is None:
        raise CideryError("the database has no cidery schema: run `cidery db migrate` first")
    if current != head:
        raise CideryError(
            f"the database is at revision {current}, not at head {head}: "
            "run `cidery db migrate` first"
        )


def _lock(cur: psycopg.Cursor[Any], tables: Sequence[str]) -> None:
    cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
    try:
        cur.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in tables)
            )
        )
    except pg_errors.LockNotAvailable as exc:
        raise CideryError(
            f"another session is using the tables to generate into (no lock within "
            f"{LOCK_TIMEOUT}); close it and try again"
        ) from exc
    cur.execute("SET LOCAL lock_timeout = 0")


def _drop_for_load(cur: psycopg.Cursor[Any]) -> _Dropped:
    """Drop the press tables' secondary indexes and foreign keys; return how to recreate them."""
    tables = list(PRESS_TABLES)
    foreign_keys = [
        (str(table), str(name), str(definition))
        for table, name, definition in cur.execute(
            """
            SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
            WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace
              AND c.relname = ANY(%s)
            ORDER BY c.relname, k.conname
            """,
            (tables,),
        ).fetchall()
    ]
    # Indexes that back no constraint (the primary keys stay).
    indexes = [
        (str(name), str(definition))
        for name, definition in cur.execute(
            """
            SELECT i.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid
                              AND k.conrelid = x.indrelid)
            ORDER BY t.relname, i.relname
            """,
            (tables,),
        ).fetchall()
    ]
    for table, name, _ in foreign_keys:
        cur.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for name, _ in indexes:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return _Dropped(indexes, foreign_keys)


def _set_trigger(cur: psycopg.Cursor[Any], trigger: tuple[str, str], *, enabled: bool) -> None:
    table, name = trigger
    cur.execute(
        sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
            sql.Identifier(table),
            sql.SQL("ENABLE" if enabled else "DISABLE"),
            sql.Identifier(name),
        )
    )


def _copy(
    cur: psycopg.Cursor[Any],
    table: str,
    chunks: Iterable[list[str]],
    total: int,
    freeze: bool,
    progress: Progress,
) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(column) for column in COLUMNS[table]),
        sql.SQL(" WITH (FREEZE)") if freeze else sql.SQL(""),
    )
    done = 0
    progress(table, 0, total)
    with cur.copy(statement) as copy:
        for chunk in chunks:
            copy.write("".join(chunk))
            done += len(chunk)
            progress(table, done, total)
    return done


def _in_chunks(lines: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(lines), CHUNK_ROWS):
        yield lines[start : start + CHUNK_ROWS]


def _no_progress(table: str, done: int, total: int) -> None:
    return None


def generate(
    engine: Engine,
    scale: Scale,
    *,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
    replace: bool = False,
) -> GenerationReport:
    """Fill the database behind ``engine`` with a generated cidery of ``scale``.

    The database must be migrated to head, and the generated tables
    (:data:`TABLES`) empty; otherwise a :class:`~cidery.errors.CideryError` is
    raised and nothing changes. With ``replace=True`` they are emptied first
    with ``TRUNCATE ... CASCADE``, which also empties every table whose foreign
    keys lead to them (batches, packages, inventory, the audit log...): the
    report's ``replaced`` lists what each held.

    ``progress(name, done, total)`` is called as rows of each table are copied
    (``name`` a table), then for the steps after the copy (:data:`STEP_INDEXES`,
    :data:`STEP_FOREIGN_KEYS`, :data:`STEP_VACUUM`). Everything up to the
    commit is one transaction: an error leaves the database as it was.
    """
    report_progress = progress or _no_progress
    began = time.perf_counter()
    _check_head(engine)
    data = _Dataset(scale, seed)  # plans the data set (and rejects an inconsistent scale)
    phases: dict[str, float] = {}
    rows: dict[str, int] = {}
    replaced: dict[str, int] = {}
    totals = {
        "users": len(data.lines["users"]),
        "vendors": scale.vendors,
        "apple_varieties": scale.varieties,
        "vessels": scale.vessels,
        "purchases": len(data.purchase_ids),
        "purchase_items": scale.purchase_items,
        "press_runs": scale.runs,
        "press_run_loads": scale.loads,
    }
    with engine.begin() as conn:
        raw = cast(psycopg.Connection[Any], conn.connection.driver_connection)
        with raw.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = 0")
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            if replace:
                emptied = _referencing_closure(cur, TABLES)
                _lock(cur, emptied)
                replaced = {table: _count(cur, table) for table in emptied}
                cur.execute(
                    sql.SQL("TRUNCATE {} CASCADE").format(
                        sql.SQL(", ").join(sql.Identifier(t) for t in TABLES)
                    )
                )
                frozen = list(TABLES)
            else:
                _lock(cur, TABLES)
                holding = [table for table in TABLES if _count(cur, table)]
                if holding:
                    raise CideryError(
                        f"the database already holds data in {', '.join(holding)}: generate "
                        "into an empty database, or pass --replace to empty them first"
                    )
                # Emptied in this transaction, so COPY may write them frozen.
                frozen = _truncatable(cur, TABLES)
                cur.execute(
                    sql.SQL("TRUNCATE {}").format(
                        sql.SQL(", ").join(sql.Identifier(t) for t in frozen)
                    )
                )
            dropped = _drop_for_load(cur)

            clock = time.perf_counter()
            for table in ("users", "vendors", "apple_varieties", "vessels"):
                rows[table] = _copy(
                    cur,
                    table,
                    _in_chunks(data.lines[table]),
                    totals[table],
                    table in frozen,
                    report_progress,
                )
            # Streamed while generated; the runs' and purchase lines' rows follow. The
            # trigger is off for the COPY only: pressed_kg comes with the lines' rows.
            _set_trigger(cur, DRAW_TRIGGER, enabled=False)
            rows["press_run_loads"] = _copy(
                cur,
                "press_run_loads",
                data.loads(),
                totals["press_run_loads"],
                "press_run_loads" in frozen,
                report_progress,
            )
            _set_trigger(cur, DRAW_TRIGGER, enabled=True)
            data.purchases()
            for table in ("purchases", "purchase_items", "press_runs"):
                rows[table] = _copy(
                    cur,
                    table,
                    _in_chunks(data.lines[table]),
                    totals[table],
                    table in frozen,
                    report_progress,
                )
            phases["load"] = time.perf_counter() - clock

            clock = time.perf_counter()
            report_progress(STEP_INDEXES, 0, len(dropped.indexes))
            for done, (_, definition) in enumerate(dropped.indexes, start=1):
                cur.execute(definition)
                report_progress(STEP_INDEXES, done, len(dropped.indexes))
            phases["indexes"] = time.perf_counter() - clock

            clock = time.perf_counter()
            report_progress(STEP_FOREIGN_KEYS, 0, len(dropped.foreign_keys))
            for done, (table, name, definition) in enumerate(dropped.foreign_keys, start=1):
                cur.execute(
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                        sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
                    )
                )
                report_progress(STEP_FOREIGN_KEYS, done, len(dropped.foreign_keys))
            phases["foreign keys"] = time.perf_counter() - clock

            clock = time.perf_counter()
            cur.execute(
                sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in TABLES))
            )
            phases["analyze"] = time.perf_counter() - clock
        clock = time.perf_counter()
    phases["commit"] = time.perf_counter() - clock

    # Sets the visibility map of the tables not written frozen (index-only scans).
    clock = time.perf_counter()
    report_progress(STEP_VACUUM, 0, 1)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM " + ", ".join(TABLES))
    report_progress(STEP_VACUUM, 1, 1)
    phases["vacuum"] = time.perf_counter() - clock

    return GenerationReport(
        scale=scale.name,
        seed=seed,
        rows={table: rows[table] for table in TABLES},
        seconds=time.perf_counter() - began,
        phases=phases,
        replaced=replaced,
    )
