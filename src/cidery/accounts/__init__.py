"""Accounts: users, their passwords, browser sessions, API tokens and sign-in throttling.

The HTTP API authenticates each request through :func:`by_session` (a browser's
cookie) or :func:`by_token` (a program's bearer token) and acts as the
:class:`Principal` they return; admins manage users through :mod:`.users`.
Like the press service, nothing here commits: the caller owns the transaction.
"""

from cidery.accounts import tokens
from cidery.accounts.principal import Principal
from cidery.accounts.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    SignedIn,
    SignIn,
    UserCreate,
    UserRead,
    UserUpdate,
)
from cidery.accounts.signin import SignInResult, by_session, by_token, sign_in, sign_out
from cidery.accounts.users import create_user, current_user, get_user, list_users, update_user

__all__ = [
    "ApiTokenCreate",
    "ApiTokenCreated",
    "ApiTokenRead",
    "Principal",
    "SignIn",
    "SignInResult",
    "SignedIn",
    "UserCreate",
    "UserRead",
    "UserUpdate",
    "by_session",
    "by_token",
    "create_user",
    "current_user",
    "get_user",
    "list_users",
    "sign_in",
    "sign_out",
    "tokens",
    "update_user",
]
