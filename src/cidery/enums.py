"""PostgreSQL enum types of the cidery schema, as Python enums.

The Python member names are identifiers; the values are what PostgreSQL stores.
"""

from __future__ import annotations

import enum


def in_words(value: enum.StrEnum) -> str:
    """A stored value as a person reads it: ``in_use`` is "in use"."""
    return value.value.replace("_", " ")


class Unit(enum.StrEnum):
    KG = "kg"
    LB = "lb"
    LITRE = "L"
    GALLON = "gal"
    BUSHEL = "bushel"


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class VesselType(enum.StrEnum):
    FERMENTER = "fermenter"
    CONDITIONING_TANK = "conditioning_tank"
    BRIGHT_TANK = "bright_tank"
    BARREL = "barrel"
    STORAGE = "storage"


class VesselStatus(enum.StrEnum):
    AVAILABLE = "available"
    IN_USE = "in_use"
    CLEANING = "cleaning"
    MAINTENANCE = "maintenance"


class BatchStatus(enum.StrEnum):
    PLANNED = "planned"
    FERMENTING = "fermenting"
    CONDITIONING = "conditioning"
    PACKAGED = "packaged"
    COMPLETED = "completed"
    DISCARDED = "discarded"


class TransactionType(enum.StrEnum):
    PRODUCTION = "production"
    SALE = "sale"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    WASTE = "waste"


class CogsItemType(enum.StrEnum):
    APPLES = "apples"
    LABOR = "labor"
    OVERHEAD = "overhead"
    PACKAGING = "packaging"
    OTHER = "other"


class AuditOperation(enum.StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


class PressRunStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
