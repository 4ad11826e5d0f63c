"""The schema's enum types, importable beside the models (they live in :mod:`cidery.enums`,
outside this package, so :mod:`cidery.units` can use them without loading the models)."""

from cidery.enums import (
    AuditOperation,
    BatchStatus,
    CogsItemType,
    PressRunStatus,
    TransactionType,
    Unit,
    UserRole,
    VesselStatus,
    VesselType,
)

__all__ = [
    "AuditOperation",
    "BatchStatus",
    "CogsItemType",
    "PressRunStatus",
    "TransactionType",
    "Unit",
    "UserRole",
    "VesselStatus",
    "VesselType",
]
