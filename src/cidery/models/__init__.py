"""All mapped classes, imported so ``Base.metadata`` is complete for Alembic."""

from cidery.models.access import ApiToken, AuthSession, IdempotencyKey, SignInThrottle
from cidery.models.audit import AuditLog
from cidery.models.base import Base
from cidery.models.cellar import Batch, BatchMeasurement, Vessel
from cidery.models.costing import BatchCost, CogsItem
from cidery.models.packaging import Inventory, InventoryTransaction, Package
from cidery.models.pressing import PressRun, PressRunBatch, PressRunLoad
from cidery.models.purchasing import (
    AppleVariety,
    FruitWriteOff,
    Purchase,
    PurchaseItem,
    Vendor,
)
from cidery.models.users import User

__all__ = [
    "ApiToken",
    "AppleVariety",
    "AuditLog",
    "AuthSession",
    "Base",
    "Batch",
    "BatchCost",
    "BatchMeasurement",
    "CogsItem",
    "FruitWriteOff",
    "IdempotencyKey",
    "Inventory",
    "InventoryTransaction",
    "Package",
    "PressRun",
    "PressRunBatch",
    "PressRunLoad",
    "Purchase",
    "PurchaseItem",
    "SignInThrottle",
    "User",
    "Vendor",
    "Vessel",
]
