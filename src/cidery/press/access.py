"""Who may do what: the acting user, and the one permission table of the press workflow.

Every service function names its :class:`Action` and calls :func:`require` before it
reads or writes anything. The API authenticates the user and builds the
:class:`Actor`; the service trusts the role it is given and decides from it alone,
so the same rules hold for the API, the pages and scripts.
"""

from __future__ import annotations

import enum
import uuid
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

from cidery.models.enums import UserRole
from cidery.press.errors import Forbidden, InvalidInput


class Actor(BaseModel):
    """The user a call acts for; ``user_id`` is None for the system (seed data, imports)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: uuid.UUID | None
    role: UserRole

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id=None, role=UserRole.ADMIN)


class Action(enum.StrEnum):
    """What a caller may ask of the press workflow; the value reads in a message."""

    READ = "read press runs"
    START = "start a press run"
    ADD_LOAD = "add a load"
    VOID_LOAD = "void a load"
    CORRECT_LOAD = "correct a load"
    COMPLETE = "complete a press run"
    CANCEL = "cancel a press run"
    WRITE_OFF = "write off fruit"
    MANAGE_USERS = "manage users"
    READ_AUDIT = "read the audit log"
    RECOMPUTE_COSTS = "recompute a completed run's costs"


_PRESSING = frozenset(
    {
        Action.READ,
        Action.START,
        Action.ADD_LOAD,
        Action.VOID_LOAD,
        Action.CORRECT_LOAD,
        Action.COMPLETE,
        Action.CANCEL,
        # Rotten or culled fruit is found at the press: whoever presses closes it out.
        Action.WRITE_OFF,
    }
)

# Viewers read; operators press; admins also manage users, read the audit log and
# recompute a completed run's costs.
PERMISSIONS: MappingProxyType[UserRole, frozenset[Action]] = MappingProxyType(
    {
        UserRole.VIEWER: frozenset({Action.READ}),
        UserRole.OPERATOR: _PRESSING,
        UserRole.ADMIN: frozenset(Action),
    }
)


def may(actor: Actor, action: Action) -> bool:
    return action in PERMISSIONS.get(actor.role, frozenset())


def require(actor: object, action: Action) -> Actor:
    """The actor, if it may do ``action``; :class:`Forbidden` if not."""
    if not isinstance(actor, Actor):
        raise InvalidInput.of("actor", f"an Actor (user id and role), got {type(actor).__name__}")
    if not may(actor, action):
        raise Forbidden(actor.role.value, action.value)
    return actor
