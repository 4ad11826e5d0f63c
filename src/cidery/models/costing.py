"""Cost of goods: the cost roll-up of a batch and the items it is built from."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    DateTime,
    ForeignKey,
    FromClause,
    Numeric,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cidery.models.base import Base, Entity, nonnegative, pg_enum, positive
from cidery.models.enums import CogsItemType, Unit


class BatchCost(Entity, Base):
    __tablename__ = "batch_costs"

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id"), unique=True)
    # Null while unknown (revision 0007): a fruit line without a price, labor without
    # hours. The total and the cost per litre are then null too: never a silent zero.
    total_apple_cost: Mapped[Decimal | None] = mapped_column(
        Numeric(10, 2), server_default=text("0")
    )
    labor_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), server_default=text("0"))
    overhead_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), server_default=text("0"))
    packaging_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), server_default=text("0"))
    total_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), server_default=text("0"))
    cost_per_bottle: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    cost_per_l: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    calculated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint(
            " AND ".join(
                nonnegative(column)
                for column in ("total_apple_cost", "labor_cost", "overhead_cost", "packaging_cost")
            ),
            name="components_nonnegative",
        ),
        CheckConstraint(
            "total_cost = total_apple_cost + labor_cost + overhead_cost + packaging_cost",
            name="total_is_sum",
        ),
        CheckConstraint(
            "(total_cost IS NULL) = (total_apple_cost IS NULL OR labor_cost IS NULL)",
            name="total_known_when_parts_are",
        ),
        CheckConstraint(
            "total_cost IS NOT NULL OR (cost_per_l IS NULL AND cost_per_bottle IS NULL)",
            name="unit_costs_need_total",
        ),
        CheckConstraint(nonnegative("cost_per_bottle"), name="cost_per_bottle_nonnegative"),
        CheckConstraint(nonnegative("cost_per_l"), name="cost_per_l_nonnegative"),
    )


class CogsItem(Entity, Base):
    __tablename__ = "cogs_items"

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id"), index=True)
    item_type: Mapped[CogsItemType] = mapped_column(pg_enum(CogsItemType, "cogs_item_type"))
    description: Mapped[str] = mapped_column(Text)
    # Null: the cost is unknown (a purchase line without a price), never zero.
    cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    unit: Mapped[Unit | None] = mapped_column(pg_enum(Unit, "unit"))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The purchase line a fruit cost was drawn on (revision 0007): reconciliation
    # follows a lot's cost back to what was bought.
    purchase_item_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("purchase_items.id"), index=True, sort_order=110
    )

    __table_args__ = (
        CheckConstraint(nonnegative("cost"), name="cost_nonnegative"),
        CheckConstraint(positive("quantity"), name="quantity_positive"),
        CheckConstraint("(quantity IS NULL) = (unit IS NULL)", name="quantity_has_unit"),
    )


# --- a known cost ---------------------------------------------------------------------------
# A batch's cost is known when its total is: the CHECKs above make the total known exactly
# when its parts are, and a cost per litre only with a total. Said once, in the two forms
# the code needs (the lot reads and reports, and the smoke checks' plain SQL); a batch
# without a batch_costs row (outer-joined: all NULL) is not costed either.

_COST_KNOWN_SQL = "total_cost IS NOT NULL"


def cost_known_sql(alias: str) -> str:
    """The known-cost predicate as SQL text over ``alias`` of batch_costs."""
    return f"{alias}.{_COST_KNOWN_SQL}"


def cost_known(costs: Table | FromClause) -> ColumnElement[bool]:
    """The known-cost criterion over ``costs`` (batch_costs, or an alias of it)."""
    return costs.c.total_cost.is_not(None)
