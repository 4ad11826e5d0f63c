"""Reading what the forms and reports show: growers, varieties, vessels, yields, juice lots'
costs, the audit log.

Each function takes the session, the :class:`~cidery.press.access.Actor` and a filter
(a model, a mapping validated into one, or None for the defaults), checks the actor's
permission before anything else, runs statements of :mod:`cidery.catalog.queries`
only, and returns Pydantic types. A bad filter is refused with every problem listed
(:class:`~cidery.press.errors.InvalidInput`); a database failure surfaces as a
:class:`~cidery.press.errors.PressError`, never as a driver's error.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from cidery.catalog import queries
from cidery.catalog.schemas import (
    AuditLogRead,
    AuditPage,
    AuditQuery,
    LineReconciliation,
    LotCostRow,
    LotQuery,
    ReconciliationQuery,
    VarietyRead,
    VendorFilter,
    VendorRead,
    VesselFilter,
    VesselRead,
    YieldQuery,
    YieldRow,
)
from cidery.press.access import Action, require
from cidery.press.inputs import decode_cursor, encode_cursor, parse
from cidery.press.reads import read_connection
from cidery.press.schemas import FruitWriteOffRead

_VENDORS = TypeAdapter(list[VendorRead])
_VARIETIES = TypeAdapter(list[VarietyRead])
_VESSELS = TypeAdapter(list[VesselRead])
_YIELDS = TypeAdapter(list[YieldRow])
_LOTS = TypeAdapter(list[LotCostRow])
_AUDIT = TypeAdapter(list[AuditLogRead])


def list_vendors(
    session: Session, actor: object, query: VendorFilter | object = None
) -> list[VendorRead]:
    """Live growers (active ones unless asked otherwise), those with fruit left to press
    first, then by name; each with the kilograms left on its live purchase lines."""
    who = require(actor, Action.READ)
    wanted = parse(VendorFilter, {} if query is None else query)
    statement = queries.vendor_list(active=wanted.active, q=wanted.q, limit=wanted.limit)
    with read_connection(session, who.user_id) as conn:
        return _VENDORS.validate_python(conn.execute(statement).mappings().all())


def list_varieties(session: Session, actor: object) -> list[VarietyRead]:
    """Live apple varieties by name."""
    who = require(actor, Action.READ)
    with read_connection(session, who.user_id) as conn:
        return _VARIETIES.validate_python(conn.execute(queries.VARIETIES).mappings().all())


def list_vessels(
    session: Session, actor: object, query: VesselFilter | object = None
) -> list[VesselRead]:
    """Live vessels by name, each saying whether a run's juice may go into it."""
    who = require(actor, Action.READ)
    wanted = parse(VesselFilter, {} if query is None else query)
    statement = queries.vessel_list(available=wanted.available)
    with read_connection(session, who.user_id) as conn:
        return _VESSELS.validate_python(conn.execute(statement).mappings().all())


def yield_report(
    session: Session, actor: object, query: YieldQuery | object = None
) -> list[YieldRow]:
    """Fruit pressed and juice made per variety (each run's juice shared by the weight of
    its loads) or per grower, over completed runs that ended in the range or the season,
    by name."""
    who = require(actor, Action.READ)
    wanted = parse(YieldQuery, {} if query is None else query)
    statement = queries.yield_report(wanted.group_by, *wanted.ended())
    with read_connection(session, who.user_id) as conn:
        return _YIELDS.validate_python(conn.execute(statement).mappings().all())


def fruit_reconciliation(
    session: Session, actor: object, query: ReconciliationQuery | object = None
) -> list[LineReconciliation]:
    """Every live purchase line bought by weight (one grower's, one season's), with the
    kilograms bought, pressed, written off and left, and its write-offs with their
    reasons; by grower, purchase date and variety."""
    who = require(actor, Action.READ)
    wanted = parse(ReconciliationQuery, {} if query is None else query)
    lines = queries.reconciliation_lines(wanted.vendor_id, wanted.season)
    written = queries.reconciliation_write_offs(wanted.vendor_id, wanted.season)
    with read_connection(session, who.user_id) as conn:
        rows = conn.execute(lines).mappings().all()
        by_line: defaultdict[object, list[FruitWriteOffRead]] = defaultdict(list)
        for row in conn.execute(written).mappings():
            by_line[row["purchase_item_id"]].append(FruitWriteOffRead.model_validate(row))
    return [
        LineReconciliation.model_validate({**row, "write_offs": by_line[row["purchase_item_id"]]})
        for row in rows
    ]


def lot_costs(session: Session, actor: object, query: LotQuery | object = None) -> list[LotCostRow]:
    """Juice lots, oldest first, each with its run and grower, its litres and its cost per
    litre; a lot whose cost is not fully known has ``complete`` false and the unknown
    amounts null."""
    who = require(actor, Action.READ)
    wanted = parse(LotQuery, {} if query is None else query)
    statement = queries.lot_costs(*wanted.ended())
    with read_connection(session, who.user_id) as conn:
        return _LOTS.validate_python(conn.execute(statement).mappings().all())


def list_audit_logs(
    session: Session, actor: object, query: AuditQuery | object = None
) -> AuditPage:
    """The audit log newest first, in pages: a stable order (change time, then id) and a
    cursor; optionally one table's rows, or one record's."""
    who = require(actor, Action.READ_AUDIT)
    wanted = parse(AuditQuery, {} if query is None else query)
    after = (
        decode_cursor(wanted.after, "after", "list_audit_logs")
        if wanted.after is not None
        else None
    )
    statement = queries.audit_list(
        limit=wanted.limit, table=wanted.table, record_id=wanted.record_id, after=after
    )
    with read_connection(session, who.user_id) as conn:
        items = _AUDIT.validate_python(conn.execute(statement).mappings().all())
    more = len(items) > wanted.limit
    items = items[: wanted.limit]
    cursor = encode_cursor(items[-1].changed_at, items[-1].id) if more else None
    return AuditPage(items=items, next_cursor=cursor)
