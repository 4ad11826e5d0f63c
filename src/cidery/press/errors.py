"""One exception per workflow rule, each with a stable machine-readable ``code``.

The API layer maps ``code`` to its responses and the CLI to its exit status;
``str(error)`` is the message for a person. Every error is raised before
anything is written, or after the service's savepoint is rolled back: the
caller's transaction stays usable.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from cidery.errors import CideryError


class PressError(CideryError):
    code = "press_error"
    retryable = False

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self), "details": self.details}


class InvalidInput(PressError):
    """Values that can never be right: negative weight, unknown unit, NaN, …

    ``errors`` lists every problem found, each as ``{"field": …, "message": …}``;
    the message names them all.
    """

    code = "invalid_input"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
        self.errors = errors

    @classmethod
    def of(cls, field: str, message: str) -> InvalidInput:
        return cls([{"field": field, "message": message}])


class Forbidden(PressError):
    """The actor's role does not allow the action."""

    code = "forbidden"

    def __init__(self, role: str, action: str) -> None:
        article = "an" if role[:1] in ("a", "e", "i", "o", "u") else "a"
        super().__init__(f"{article} {role} may not {action}", role=role, action=action)


class NotFound(PressError):
    """No live row with that id (unknown, or soft-deleted)."""

    code = "not_found"

    def __init__(self, entity: str, id_: uuid.UUID | str) -> None:
        super().__init__(
            f"{entity} {id_} does not exist or was deleted", entity=entity, id=str(id_)
        )


class VendorInactive(PressError):
    code = "vendor_inactive"


class InvalidTransition(PressError):
    """The run (or load) is not in a state that allows this action."""

    code = "invalid_transition"


class VendorMismatch(PressError):
    """The purchase line was bought from another grower than the run's."""

    code = "vendor_mismatch"


def bought_by_volume(item_id: uuid.UUID) -> InvalidInput:
    """A purchase line bought by volume (juice, not fruit): nothing to press or write off."""
    return InvalidInput.of(
        "purchase_item_id",
        f"purchase line {item_id} was bought by volume, not by weight: it has no fruit",
    )


class InsufficientFruit(PressError):
    """More fruit asked of a purchase line than it has left (``asked`` says for what)."""

    code = "insufficient_fruit"

    def __init__(
        self,
        purchase_item_id: uuid.UUID,
        requested_kg: Decimal,
        remaining_kg: Decimal,
        asked: str = "the load weighs",
    ):
        super().__init__(
            f"purchase line {purchase_item_id} has {remaining_kg} kg left; "
            f"{asked} {requested_kg} kg",
            purchase_item_id=str(purchase_item_id),
            requested_kg=str(requested_kg),
            remaining_kg=str(remaining_kg),
        )
        self.remaining_kg = remaining_kg
        self.requested_kg = requested_kg


class NothingLeft(PressError):
    """The purchase line has no fruit left: all of it pressed or written off already."""

    code = "nothing_left"


class NoLoads(PressError):
    code = "no_loads"


class VesselUnavailable(PressError):
    code = "vessel_unavailable"


class VesselTooSmall(PressError):
    code = "vessel_too_small"


class VolumesDoNotAddUp(PressError):
    """The litres sent to the vessels are not exactly the run's juice."""

    code = "volumes_do_not_add_up"

    def __init__(self, assigned_l: Decimal, juice_l: Decimal) -> None:
        short = juice_l - assigned_l
        gap = f"{short} L short" if short > 0 else f"{-short} L too many"
        super().__init__(
            f"the vessels receive {assigned_l} L but the run gave {juice_l} L ({gap}): "
            "the litres must add up exactly",
            assigned_l=str(assigned_l),
            juice_l=str(juice_l),
        )


class ImplausibleYield(PressError):
    """More juice than fruit can give: almost always pounds entered as kilograms."""

    code = "implausible_yield"


class Conflict(PressError):
    """Another transaction held what this one needed; roll back and try again."""

    code = "conflict"
    retryable = True


class ConstraintViolation(PressError):
    """The database refused a change no rule above foresaw; ``constraint`` names why."""

    code = "constraint_violation"


class DatabaseFailure(PressError):
    """The database failed the call for a reason of its own (connection lost, out of
    space); ``retryable`` when trying again may help."""

    code = "database_failure"

    def __init__(self, message: str, *, retryable: bool, **details: Any) -> None:
        super().__init__(message, **details)
        self.retryable = retryable
