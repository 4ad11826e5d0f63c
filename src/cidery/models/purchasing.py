"""Buying fruit: growers (vendors), apple varieties, purchases and their lines."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cidery.models.base import Base, Entity, live_sql, nonnegative, pg_enum, positive
from cidery.models.enums import Unit


class Vendor(Entity, Base):
    __tablename__ = "vendors"

    name: Mapped[str] = mapped_column(String(200))
    contact_info: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    purchases: Mapped[list[Purchase]] = relationship(back_populates="vendor", lazy="raise")

    __table_args__ = (
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        CheckConstraint("jsonb_typeof(contact_info) = 'object'", name="contact_info_object"),
        Index(
            "vendors_name_key",
            func.lower(text("name")),
            unique=True,
            postgresql_where=text(live_sql()),
        ),
    )


class AppleVariety(Entity, Base):
    __tablename__ = "apple_varieties"

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    typical_brix: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))

    purchase_items: Mapped[list[PurchaseItem]] = relationship(
        back_populates="apple_variety", lazy="raise"
    )

    __table_args__ = (
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        CheckConstraint("typical_brix >= 0 AND typical_brix <= 40", name="typical_brix_range"),
        Index(
            "apple_varieties_name_key",
            func.lower(text("name")),
            unique=True,
            postgresql_where=text(live_sql()),
        ),
    )


class Purchase(Entity, Base):
    __tablename__ = "purchases"

    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id"), index=True)
    purchase_date: Mapped[date] = mapped_column(Date)
    invoice_number: Mapped[str | None] = mapped_column(String(100))
    total_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), server_default=text("0"))
    notes: Mapped[str | None] = mapped_column(Text)

    vendor: Mapped[Vendor] = relationship(back_populates="purchases", lazy="raise")
    items: Mapped[list[PurchaseItem]] = relationship(
        back_populates="purchase", lazy="raise", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(nonnegative("total_cost"), name="total_cost_nonnegative"),
        Index("purchases_purchase_date_idx", "purchase_date"),
        # The seed and the importers identify a purchase by its vendor's invoice number.
        Index(
            "purchases_vendor_id_invoice_number_key",
            "vendor_id",
            "invoice_number",
            unique=True,
            postgresql_where=text(f"{live_sql()} AND invoice_number IS NOT NULL"),
        ),
    )


class PurchaseItem(Entity, Base):
    """One line of a purchase: a quantity of one variety.

    ``quantity``/``unit`` keep what was entered; ``quantity_kg`` (fruit) or
    ``quantity_l`` (juice bought in) is the canonical amount every yield and
    cost calculation uses.
    """

    __tablename__ = "purchase_items"

    purchase_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("purchases.id", ondelete="CASCADE"), index=True
    )
    apple_variety_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("apple_varieties.id"), index=True
    )
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    unit: Mapped[Unit] = mapped_column(pg_enum(Unit, "unit"))
    quantity_kg: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    quantity_l: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    # Kilograms drawn by the live loads of runs neither cancelled nor deleted; kept by
    # the database's triggers on press_run_loads and press_runs (revision 0003), never
    # written by the application. Being a column of the line, drawing on the line
    # updates its row: under any isolation level two transactions cannot both take
    # the last kilograms (the second waits, then re-checks or fails to serialise), and
    # the CHECK below refuses an over-allocation whatever wrote the load.
    #
    # Deferred, and not fetched back after an INSERT (eager_defaults off below): a
    # line's pressed_kg changes behind the ORM's back, so it is read when asked for;
    # and the sample data can still be written through the ORM into a database at an
    # older revision, which lacks the column.
    # sort_order: added by revision 0003, after the columns every table shares.
    pressed_kg: Mapped[Decimal] = mapped_column(
        Numeric(10, 3), server_default=text("0"), deferred=True, sort_order=110
    )
    # Kilograms written off as waste (rotten or culled fruit): the sum of the line's
    # fruit_write_offs, kept by their trigger (revision 0007) as pressed_kg is kept by
    # the loads'. Deferred and not fetched back, for the reasons given for pressed_kg.
    written_off_kg: Mapped[Decimal] = mapped_column(
        Numeric(10, 3), server_default=text("0"), deferred=True, sort_order=111
    )
    price_per_unit: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    total_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    harvest_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    purchase: Mapped[Purchase] = relationship(back_populates="items", lazy="raise")
    apple_variety: Mapped[AppleVariety] = relationship(
        back_populates="purchase_items", lazy="raise"
    )

    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012  (see pressed_kg)

    __table_args__ = (
        CheckConstraint(positive("quantity"), name="quantity_positive"),
        CheckConstraint(positive("quantity_kg"), name="quantity_kg_positive"),
        CheckConstraint(positive("quantity_l"), name="quantity_l_positive"),
        # Fruit is weighed: an entry by weight or bushel needs its canonical kilograms.
        CheckConstraint(
            "unit NOT IN ('kg', 'lb', 'bushel') OR quantity_kg IS NOT NULL",
            name="weight_has_quantity_kg",
        ),
        CheckConstraint(
            "unit NOT IN ('L', 'gal') OR quantity_l IS NOT NULL",
            name="volume_has_quantity_l",
        ),
        CheckConstraint(nonnegative("pressed_kg"), name="pressed_kg_nonnegative"),
        CheckConstraint(nonnegative("written_off_kg"), name="written_off_kg_nonnegative"),
        # What is pressed and what is written off come out of what was bought; fruit
        # bought by volume has no kilograms to press.
        CheckConstraint(
            "pressed_kg + written_off_kg <= coalesce(quantity_kg, 0)",
            name="fruit_within_quantity",
        ),
        CheckConstraint(nonnegative("price_per_unit"), name="price_per_unit_nonnegative"),
        CheckConstraint(nonnegative("total_cost"), name="total_cost_nonnegative"),
        # Target of press_run_loads' composite foreign key, which ties a load's
        # variety to its purchase line's variety.
        UniqueConstraint("id", "apple_variety_id"),
    )


class FruitWriteOff(Base):
    """Fruit of a purchase line written off as waste, with the reason (rotten, culled).

    Writing off is an adjustment of the line: its ``written_off_kg`` grows (by a
    trigger), so the fruit is no longer offered for pressing, and reconciliation
    shows what was bought, pressed and written off.
    """

    __tablename__ = "fruit_write_offs"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=text("gen_random_uuid()")
    )
    purchase_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_items.id"), index=True)
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)

    __table_args__ = (
        CheckConstraint(positive("weight_kg"), name="weight_kg_positive"),
        CheckConstraint("length(btrim(reason)) > 0", name="reason_not_blank"),
    )
