"""Types of the accounts API: sign-in, users, API tokens."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from cidery.credentials import MAX_LENGTH, MIN_LENGTH
from cidery.models.enums import UserRole
from cidery.press.schemas import InputModel, ReadModel, not_a_boolean, storable_text

# Deliberately loose: one @ with something on each side and no spaces or control
# characters. The only real check of an address is a mail that arrives.
_EMAIL = re.compile(r"[^\s@\x00-\x1f\x7f]+@[^\s@\x00-\x1f\x7f]+")


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be an email address such as sam@example.com")
    return value


Email = Annotated[str, Field(min_length=3, max_length=320), AfterValidator(_email)]
Password = Annotated[str, Field(max_length=MAX_LENGTH), AfterValidator(storable_text)]
NewPassword = Annotated[
    str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH), AfterValidator(storable_text)
]
PersonName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(storable_text)]
TokenName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(storable_text)]


class SignIn(InputModel):
    email: Email
    # Only bounded, not held to today's minimum length: a password set under older rules
    # still signs in. Stripped of outer spaces like every input, as it was when set.
    password: Password


class UserRead(ReadModel):
    id: uuid.UUID
    email: str
    name: str
    role: UserRole
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime


class UserCreate(InputModel):
    email: Email
    name: PersonName
    role: UserRole
    password: NewPassword


class UserUpdate(InputModel):
    """Change a user's name or role, or (de)activate them; at least one field."""

    name: PersonName | None = None
    role: UserRole | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> UserUpdate:
        if self.name is None and self.role is None and self.is_active is None:
            raise ValueError("give at least one of name, role, is_active")
        return self


class SignedIn(ReadModel):
    """What a browser learns at sign-in (the session itself travels in a cookie)."""

    user: UserRead
    csrf_token: str
    expires_at: datetime


class ApiTokenCreate(InputModel):
    name: TokenName
    expires_in_days: Annotated[int, Field(ge=1, le=3650), BeforeValidator(not_a_boolean)] | None = (
        None
    )


class ApiTokenRead(ReadModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    """A new token: ``token`` is shown this once and never again."""

    token: str
