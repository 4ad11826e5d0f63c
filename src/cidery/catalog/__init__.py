"""What the forms and reports read: growers, varieties, vessels, yields, juice lots' costs,
the audit log.

``from cidery import catalog`` then
``catalog.list_vendors(session, actor, catalog.VendorFilter(q="orchard"))``. Every
function takes the session, an :class:`~cidery.press.access.Actor` and a filter (a
model, a mapping validated into one, or None for the defaults), checks the actor's
permission first, and returns Pydantic types (:mod:`cidery.catalog.schemas`). Errors
are the press workflow's (:mod:`cidery.press.errors`); the statements, in
:mod:`cidery.catalog.queries`.
"""

from cidery.catalog.reads import (
    fruit_reconciliation,
    list_audit_logs,
    list_varieties,
    list_vendors,
    list_vessels,
    lot_costs,
    yield_report,
)
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
    YieldGrouping,
    YieldQuery,
    YieldRow,
)

__all__ = [
    "AuditLogRead",
    "AuditPage",
    "AuditQuery",
    "LineReconciliation",
    "LotCostRow",
    "LotQuery",
    "ReconciliationQuery",
    "VarietyRead",
    "VendorFilter",
    "VendorRead",
    "VesselFilter",
    "VesselRead",
    "YieldGrouping",
    "YieldQuery",
    "YieldRow",
    "fruit_reconciliation",
    "list_audit_logs",
    "list_varieties",
    "list_vendors",
    "list_vessels",
    "lot_costs",
    "yield_report",
]
