"""Writing off fruit: what is left of a purchase line closed as waste (rotten, culled).

A write-off is a row of its own (``fruit_write_offs``, with its reason); the
database's trigger adds it to the line's ``written_off_kg`` (revision 0007), so the
fruit is no longer offered (:data:`cidery.press.queries.REMAINING_KG`) and
``press_add_load`` no longer draws on it. The line's row is locked (``FOR UPDATE``,
the lock ``add_load`` and ``correct_load`` take on it) while what is left is read and
written off, so a write-off and a load drawing on the same line are serialised: the
second sees what the first left, and the CHECK ``fruit_within_quantity`` refuses an
over-allocation whatever happens.
"""

from __future__ import annotations

import logging

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cidery import audit
from cidery.models.enums import AuditOperation
from cidery.press import queries
from cidery.press.access import Action, require
from cidery.press.errors import InsufficientFruit, NotFound, NothingLeft, bought_by_volume
from cidery.press.inputs import Id, identifier, parse
from cidery.press.schemas import FruitWriteOffCreate, FruitWriteOffRead
from cidery.press.translate import writing

log = logging.getLogger(__name__)


def write_off_line(
    session: Session, actor: object, item_id: Id, data: FruitWriteOffCreate | object
) -> FruitWriteOffRead:
    """Write off the fruit left on a purchase line as waste, with the reason: all of it,
    or ``weight_kg`` of it (at most what is left).

    The line must be live and bought by weight, with fruit left. Its grower need not be
    active: fruit rots whoever sold it. One ``fruit_write_offs`` row and its audit row
    (``insert``, with the reason); a refusal writes nothing.
    """
    who = require(actor, Action.WRITE_OFF)
    item_uuid = identifier(item_id, "item_id")
    wanted = parse(FruitWriteOffCreate, data)
    with writing(session, who.user_id):
        conn = session.connection()
        line = conn.execute(queries.LOCK_LINES, {"item_ids": [item_uuid]}).mappings().first()
        if line is None or not line["is_live"]:
            raise NotFound("purchase line", item_uuid)
        if line["quantity_kg"] is None:
            raise bought_by_volume(item_uuid)
        left = line["remaining_kg"]
        if left <= 0:
            raise NothingLeft(
                f"purchase line {item_uuid} has no fruit left to write off: all of it was "
                "pressed or written off",
                purchase_item_id=str(item_uuid),
            )
        weight_kg = left if wanted.weight_kg is None else wanted.weight_kg
        if weight_kg > left:
            raise InsufficientFruit(item_uuid, weight_kg, left, asked="the write-off is")
        written = (
            conn.execute(
                insert(queries.write_offs)
                .values(
                    purchase_item_id=item_uuid,
                    weight_kg=weight_kg,
                    reason=wanted.reason,
                    created_by=who.user_id,
                )
                .returning(queries.write_offs)
            )
            .mappings()
            .one()
        )
        audit.record(
            session,
            table=queries.write_offs.name,
            record_id=written["id"],
            operation=AuditOperation.INSERT,
            actor=who.user_id,
            new=written,
            reason=wanted.reason,
        )
    log.info("%s kg of purchase line %s written off", weight_kg, item_uuid)
    return FruitWriteOffRead.model_validate(written)
