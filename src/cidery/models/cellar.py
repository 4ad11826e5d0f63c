"""The cellar: vessels, the batches fermenting in them, and their measurements."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cidery.models.base import Base, Entity, live_sql, nonnegative, pg_enum, positive
from cidery.models.enums import BatchStatus, VesselStatus, VesselType


class Vessel(Entity, Base):
    __tablename__ = "vessels"

    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[VesselType] = mapped_column(pg_enum(VesselType, "vessel_type"))
    status: Mapped[VesselStatus] = mapped_column(
        pg_enum(VesselStatus, "vessel_status"), server_default=VesselStatus.AVAILABLE.value
    )
    capacity_l: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    location: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)

    batches: Mapped[list[Batch]] = relationship(back_populates="vessel", lazy="raise")

    __table_args__ = (
        CheckConstraint(positive("capacity_l"), name="capacity_l_positive"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        Index(
            "vessels_name_key",
            func.lower(text("name")),
            unique=True,
            postgresql_where=text(live_sql()),
        ),
        Index("vessels_status_idx", "status"),
    )


class Batch(Entity, Base):
    __tablename__ = "batches"

    batch_number: Mapped[str] = mapped_column(String(50))
    name: Mapped[str | None] = mapped_column(String(200))
    vessel_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vessels.id"), index=True)
    status: Mapped[BatchStatus] = mapped_column(
        pg_enum(BatchStatus, "batch_status"), server_default=BatchStatus.PLANNED.value
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    initial_volume_l: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    current_volume_l: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    target_abv: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    actual_abv: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    notes: Mapped[str | None] = mapped_column(Text)

    vessel: Mapped[Vessel | None] = relationship(back_populates="batches", lazy="raise")
    measurements: Mapped[list[BatchMeasurement]] = relationship(
        back_populates="batch",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="BatchMeasurement.measured_at",
    )

    __table_args__ = (
        CheckConstraint(positive("initial_volume_l"), name="initial_volume_l_positive"),
        CheckConstraint(nonnegative("current_volume_l"), name="current_volume_l_nonnegative"),
        CheckConstraint("target_abv >= 0 AND target_abv <= 100", name="target_abv_range"),
        CheckConstraint("actual_abv >= 0 AND actual_abv <= 100", name="actual_abv_range"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        Index(
            "batches_batch_number_key",
            "batch_number",
            unique=True,
            postgresql_where=text(live_sql()),
        ),
        Index("batches_status_idx", "status"),
    )


class BatchMeasurement(Entity, Base):
    __tablename__ = "batch_measurements"

    batch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), index=True
    )
    measured_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    specific_gravity: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    brix: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    ph: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    abv: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    temperature_c: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    volume_l: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    notes: Mapped[str | None] = mapped_column(Text)
    measured_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)

    batch: Mapped[Batch] = relationship(back_populates="measurements", lazy="raise")

    __table_args__ = (
        CheckConstraint(
            "specific_gravity >= 0.9 AND specific_gravity <= 1.2", name="specific_gravity_range"
        ),
        CheckConstraint("brix >= 0 AND brix <= 40", name="brix_range"),
        CheckConstraint("ph >= 0 AND ph <= 14", name="ph_range"),
        CheckConstraint("abv >= 0 AND abv <= 100", name="abv_range"),
        CheckConstraint("temperature_c >= -20 AND temperature_c <= 100", name="temperature_range"),
        CheckConstraint(nonnegative("volume_l"), name="volume_l_nonnegative"),
        CheckConstraint(
            "num_nonnulls(specific_gravity, brix, ph, abv, temperature_c, volume_l) > 0",
            name="has_a_reading",
        ),
    )
