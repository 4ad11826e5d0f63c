"""Packaging and stock: packaged runs of a batch, inventory, and stock movements."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cidery.models.base import Base, Entity, pg_enum, positive
from cidery.models.enums import TransactionType


class Package(Entity, Base):
    __tablename__ = "packages"

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id"), index=True)
    package_date: Mapped[date] = mapped_column(Date)
    volume_packaged_l: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    bottle_size_ml: Mapped[int] = mapped_column(Integer)
    bottle_count: Mapped[int] = mapped_column(Integer)
    abv_at_packaging: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    notes: Mapped[str | None] = mapped_column(Text)

    inventory: Mapped[list[Inventory]] = relationship(back_populates="package", lazy="raise")

    __table_args__ = (
        CheckConstraint(positive("volume_packaged_l"), name="volume_packaged_l_positive"),
        CheckConstraint("bottle_size_ml > 0", name="bottle_size_ml_positive"),
        CheckConstraint("bottle_count > 0", name="bottle_count_positive"),
        CheckConstraint(
            "abv_at_packaging >= 0 AND abv_at_packaging <= 100", name="abv_at_packaging_range"
        ),
    )


class Inventory(Entity, Base):
    __tablename__ = "inventory"

    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("packages.id"), index=True)
    current_bottle_count: Mapped[int] = mapped_column(Integer)
    reserved_bottle_count: Mapped[int] = mapped_column(Integer, server_default="0")
    location: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)

    package: Mapped[Package] = relationship(back_populates="inventory", lazy="raise")
    transactions: Mapped[list[InventoryTransaction]] = relationship(
        back_populates="inventory", lazy="raise"
    )

    __table_args__ = (
        CheckConstraint("current_bottle_count >= 0", name="current_bottle_count_nonnegative"),
        CheckConstraint("reserved_bottle_count >= 0", name="reserved_bottle_count_nonnegative"),
        CheckConstraint(
            "reserved_bottle_count <= current_bottle_count", name="reserved_within_current"
        ),
    )


class InventoryTransaction(Entity, Base):
    __tablename__ = "inventory_transactions"

    inventory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory.id"), index=True)
    transaction_type: Mapped[TransactionType] = mapped_column(
        pg_enum(TransactionType, "transaction_type")
    )
    quantity_change: Mapped[int] = mapped_column(Integer)
    transaction_date: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)

    inventory: Mapped[Inventory] = relationship(back_populates="transactions", lazy="raise")

    __table_args__ = (CheckConstraint("quantity_change <> 0", name="quantity_change_nonzero"),)
