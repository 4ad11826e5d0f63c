"""Pressing: press runs and the loads of fruit pressed in them.

A run is one session at the press for one grower's fruit; each load is one
bin or truck load weighed and pressed, drawn on one purchase line, so every
kilogram pressed traces back to the line it was bought on.

What the database itself guarantees (Python validation only words it nicely):

* amounts are positive, Brix and pH physically possible, ``end_time`` not
  before ``start_time``;
* a completed run has an end time, a juice volume and a destination vessel;
  an in-progress run has no end time;
* canonical amounts agree with what was entered (``weight_kg`` with
  ``weight``/``weight_unit``, ``total_juice_volume_l`` with
  ``juice_volume``/``juice_volume_unit``), with the exact factors of
  :mod:`cidery.units`; ``extraction_rate`` is a generated column, so it
  cannot disagree with the totals;
* a load's variety is its purchase line's variety: the composite foreign key
  onto ``purchase_items (id, apple_variety_id)``;
* deleting a run deletes its loads; deleting a vendor, vessel, purchase line,
  variety or user that press data references is refused.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cidery.models.base import (
    Authored,
    Base,
    Entity,
    added_later,
    live_sql,
    nonnegative,
    pg_enum,
    positive,
)
from cidery.models.cellar import Vessel
from cidery.models.enums import PressRunStatus, Unit
from cidery.models.purchasing import AppleVariety, PurchaseItem, Vendor
from cidery.units import KG_PER_LB, L_PER_GALLON

# A kilogram of apples holds well under a litre of juice; 1.2 L/kg leaves room
# for measurement error and still refuses the 2.2x of a pound/kilogram mix-up.
MAX_EXTRACTION_RATE = Decimal("1.2")


class PressRun(Entity, Authored, Base):
    __tablename__ = "press_runs"

    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id"))
    vessel_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vessels.id"))
    status: Mapped[PressRunStatus] = mapped_column(
        pg_enum(PressRunStatus, "press_run_status"),
        server_default=PressRunStatus.IN_PROGRESS.value,
    )
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    total_apple_weight_kg: Mapped[Decimal] = mapped_column(Numeric(10, 3), server_default=text("0"))
    juice_volume: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    juice_volume_unit: Mapped[Unit | None] = mapped_column(pg_enum(Unit, "unit"))
    total_juice_volume_l: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    extraction_rate: Mapped[Decimal | None] = mapped_column(
        Numeric(6, 4),
        Computed(
            "CASE WHEN total_apple_weight_kg > 0 "
            "THEN round(total_juice_volume_l / total_apple_weight_kg, 4) END",
            persisted=True,
        ),
    )
    labor_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    worker_count: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    # Added by revision 0007 (see added_later): the pomace weighed when the run was
    # completed (for the mass balance), if it was; and the labor rate per hour the run's
    # juice lots were costed at (the setting's, or the one given for this run), kept so
    # a recompute is explained.
    pomace_kg: Mapped[Decimal | None] = mapped_column(
        Numeric(10, 3), **added_later(), sort_order=110
    )
    labor_rate: Mapped[Decimal | None] = mapped_column(
        Numeric(8, 2), **added_later(), sort_order=111
    )

    vendor: Mapped[Vendor] = relationship(lazy="raise")
    vessel: Mapped[Vessel | None] = relationship(lazy="raise")

    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012  (see added_later)
    loads: Mapped[list[PressRunLoad]] = relationship(
        back_populates="press_run",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PressRunLoad.load_sequence",
    )

    __table_args__ = (
        CheckConstraint(
            nonnegative("total_apple_weight_kg"), name="total_apple_weight_kg_nonnegative"
        ),
        CheckConstraint(positive("juice_volume"), name="juice_volume_positive"),
        CheckConstraint(positive("total_juice_volume_l"), name="total_juice_volume_l_positive"),
        CheckConstraint("juice_volume_unit IN ('L', 'gal')", name="juice_volume_unit_is_volume"),
        CheckConstraint(
            "(juice_volume IS NULL) = (juice_volume_unit IS NULL) "
            "AND (juice_volume IS NULL) = (total_juice_volume_l IS NULL)",
            name="juice_volume_complete",
        ),
        CheckConstraint(
            "total_juice_volume_l = round(juice_volume * CASE juice_volume_unit "
            f"WHEN 'gal' THEN {L_PER_GALLON} ELSE 1 END, 3)",
            name="total_juice_volume_l_matches_entry",
        ),
        CheckConstraint(
            f"extraction_rate > 0 AND extraction_rate <= {MAX_EXTRACTION_RATE}",
            name="extraction_rate_range",
        ),
        CheckConstraint(nonnegative("labor_hours"), name="labor_hours_nonnegative"),
        CheckConstraint("worker_count > 0", name="worker_count_positive"),
        CheckConstraint(positive("pomace_kg"), name="pomace_kg_positive"),
        CheckConstraint(nonnegative("labor_rate"), name="labor_rate_nonnegative"),
        CheckConstraint("end_time >= start_time", name="end_after_start"),
        CheckConstraint(
            "status <> 'completed' OR (end_time IS NOT NULL "
            "AND total_juice_volume_l IS NOT NULL AND vessel_id IS NOT NULL)",
            name="completed_has_outcome",
        ),
        CheckConstraint("status <> 'in_progress' OR end_time IS NULL", name="open_has_no_end"),
        # (a) runs to resume, newest first; the partial predicate keeps deleted runs out.
        Index(
            "press_runs_status_idx",
            "status",
            text("start_time DESC"),
            postgresql_where=text(live_sql()),
        ),
        # (a) for one vendor and (c) a vendor's runs in a date range by status, newest
        # first, ties by id: the page in the list's order, no sort (0012); not partial,
        # so it also serves the foreign-key check when a vendor is deleted.
        Index(
            "press_runs_vendor_id_status_idx",
            "vendor_id",
            "status",
            text("start_time DESC"),
            text("id DESC"),
        ),
        # Every live run newest first, ties by id: list_runs without a filter, and its
        # keyset cursor (start_time, id).
        Index(
            "press_runs_start_time_idx",
            text("start_time DESC"),
            text("id DESC"),
            postgresql_where=text(live_sql()),
        ),
        # One grower's live runs newest first, ties by id: the run list for one grower
        # in any status, without reading the grower's whole history to sort it.
        Index(
            "press_runs_vendor_id_start_time_idx",
            "vendor_id",
            text("start_time DESC"),
            text("id DESC"),
            postgresql_where=text(live_sql()),
        ),
        # Completed runs by yield: the outliers (below or above the usual band) are a
        # few percent of the runs, found by two range scans of this index.
        Index(
            "press_runs_extraction_rate_idx",
            "extraction_rate",
            postgresql_where=text(f"status = 'completed' AND {live_sql()}"),
        ),
        # (e) runs by destination vessel, newest first.
        Index("press_runs_vessel_id_idx", "vessel_id", "start_time"),
    )


class PressRunLoad(Entity, Authored, Base):
    __tablename__ = "press_run_loads"

    press_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("press_runs.id", ondelete="CASCADE"))
    purchase_item_id: Mapped[uuid.UUID] = mapped_column()
    apple_variety_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("apple_varieties.id"), index=True
    )
    load_sequence: Mapped[int] = mapped_column(Integer)
    weight: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    weight_unit: Mapped[Unit] = mapped_column(pg_enum(Unit, "unit"))
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    juice_volume_l: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    brix: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    ph: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    notes: Mapped[str | None] = mapped_column(Text)
    pressed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A weigh tag: the bin or truck weighed full (gross) and empty (tare), in
    # ``weight_unit``; ``weight`` is then their difference, the net fruit.
    # Added by revision 0007 (see added_later).
    gross_weight: Mapped[Decimal | None] = mapped_column(
        Numeric(10, 3), **added_later(), sort_order=110
    )
    tare_weight: Mapped[Decimal | None] = mapped_column(
        Numeric(10, 3), **added_later(), sort_order=111
    )

    press_run: Mapped[PressRun] = relationship(back_populates="loads", lazy="raise")

    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012  (see added_later)
    purchase_item: Mapped[PurchaseItem] = relationship(
        lazy="raise",
        primaryjoin="PressRunLoad.purchase_item_id == PurchaseItem.id",
        foreign_keys=[purchase_item_id],
    )
    apple_variety: Mapped[AppleVariety] = relationship(lazy="raise")

    __table_args__ = (
        # The load's variety is by construction its purchase line's variety.
        ForeignKeyConstraint(
            ["purchase_item_id", "apple_variety_id"],
            ["purchase_items.id", "purchase_items.apple_variety_id"],
        ),
        CheckConstraint("load_sequence > 0", name="load_sequence_positive"),
        CheckConstraint(positive("weight"), name="weight_positive"),
        CheckConstraint(positive("weight_kg"), name="weight_kg_positive"),
        CheckConstraint("weight_unit IN ('kg', 'lb')", name="weight_unit_is_weight"),
        CheckConstraint(
            "weight_kg = round(weight * "
            f"CASE weight_unit WHEN 'lb' THEN {KG_PER_LB} ELSE 1 END, 3)",
            name="weight_kg_matches_entry",
        ),
        CheckConstraint(positive("juice_volume_l"), name="juice_volume_l_positive"),
        CheckConstraint("brix >= 0 AND brix <= 40", name="brix_range"),
        CheckConstraint("ph >= 0 AND ph <= 14", name="ph_range"),
        CheckConstraint(
            "(gross_weight IS NULL) = (tare_weight IS NULL)", name="weigh_tag_complete"
        ),
        CheckConstraint(nonnegative("tare_weight"), name="tare_weight_nonnegative"),
        CheckConstraint("tare_weight < gross_weight", name="tare_below_gross"),
        CheckConstraint("weight = gross_weight - tare_weight", name="weight_is_net_of_tare"),
        # (b) a run's loads in sequence order; unique, so no sequence number repeats.
        Index("press_run_loads_press_run_id_idx", "press_run_id", "load_sequence", unique=True),
        # Each run's live loads, counted by the run lists (load_count): smaller than the
        # unique index above, which is a level deeper and cannot skip voided loads, so the
        # count is an index-only scan.
        Index(
            "press_run_loads_live_press_run_id_idx",
            "press_run_id",
            postgresql_where=text(live_sql()),
        ),
        # (d) weight already pressed per purchase line; also covers the composite
        # foreign key, and carries what the sum reads, so it can scan the index only.
        Index(
            "press_run_loads_purchase_item_id_idx",
            "purchase_item_id",
            "apple_variety_id",
            postgresql_include=["press_run_id", "weight_kg", "deleted_at"],
        ),
    )


class PressRunBatch(Base):
    """Juice of a run sent to a batch: the lineage from the press to the cellar.

    Completing a run into several vessels makes one juice lot (``batches``) per
    vessel and one of these links per lot, with the litres it received. The
    links of a run add up to the run's juice exactly: a deferred constraint
    trigger (revision 0007) checks it at commit, when every link of the
    completion is written.
    """

    __tablename__ = "press_run_batches"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=text("gen_random_uuid()")
    )
    press_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("press_runs.id"))
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id"), index=True)
    volume_l: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)

    __table_args__ = (
        CheckConstraint(positive("volume_l"), name="volume_l_positive"),
        # One link per run and batch; it also serves a run's lots (press_run_id first).
        UniqueConstraint("press_run_id", "batch_id"),
        # The lots list (GET /api/v1/lots): newest link first, a page at a time by the
        # keyset (created_at, batch_id), read backwards instead of sorting every link.
        Index("press_run_batches_created_at_batch_id_idx", "created_at", "batch_id"),
    )
