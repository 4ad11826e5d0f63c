"""The user a request is authenticated as, and how."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cidery.models.enums import UserRole
from cidery.press.access import Actor


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    role: UserRole
    email: str
    name: str
    # Exactly one of the two: a browser session (with its CSRF token) or an API token.
    session_id: uuid.UUID | None = None
    csrf_token: str | None = None
    token_id: uuid.UUID | None = None

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, role=self.role)

    @property
    def by_cookie(self) -> bool:
        return self.session_id is not None
