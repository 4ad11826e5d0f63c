"""Who is asking, for the pages: the session cookie, the form's CSRF token, the role.

The rules are the API's (:mod:`cidery.api.security`): the same cookie, the same CSRF
token (here from the form's hidden field) and Origin check, the same permission
table. What differs is the answer: a page not signed in redirects to the sign-in
page, a refused form shows a page that says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cidery import accounts
from cidery.api.problems import ApiError
from cidery.api.security import (
    CSRF_FIELD,
    PUBLIC,
    SAFE_METHODS,
    SESSION_COOKIE,
    SessionDep,
    check_csrf,
)
from cidery.press.access import Action, Actor, may
from cidery.press.errors import Forbidden
from cidery.web.messages import explain

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 40


class SignInFirst(Exception):
    """No valid session: the page redirects to the sign-in page."""


class PageRefused(Exception):
    """A request the pages cannot serve (another site's form, a role's limit)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def form_fields(request: Request) -> dict[str, str]:
    """A plain form's fields (``application/x-www-form-urlencoded``), empty for a GET."""
    if request.method in SAFE_METHODS:
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        # Not a form of these pages: no fields, so no CSRF token either; the guard
        # sends a browser that is not signed in to the sign-in page, refuses the rest.
        return {}
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise PageRefused(400, "The form has too many fields") from None
    return dict(pairs)


FormFields = Annotated[dict[str, str], Depends(form_fields)]


@dataclass
class Visit:
    """What a page's handler gets: the request, its session (one transaction), the form's
    fields and who is signed in."""

    request: Request
    session: Session
    principal: accounts.Principal
    form: dict[str, str] = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return self.principal.actor

    def may(self, action: Action) -> bool:
        return may(self.principal.actor, action)

    def value(self, name: str) -> str:
        return self.form.get(name, "").strip()

    def given(self, *names: str) -> dict[str, str]:
        """The named fields that were filled in (an empty optional field is left out)."""
        return {name: self.value(name) for name in names if self.value(name)}

    @property
    def context(self) -> dict[str, Any]:
        """What every page's template needs: who is signed in, the CSRF token, what they may."""
        return {
            "user": self.principal,
            "csrf": self.principal.csrf_token,
            "csrf_field": CSRF_FIELD,
            "can": {action.name.lower(): self.may(action) for action in Action},
        }


def signed_in(request: Request, session: Session) -> accounts.Principal | None:
    """The principal of the browser's session cookie, if it is still valid."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return accounts.by_session(session, cookie) if cookie else None


def visitor(action: Action) -> Any:
    """The dependency of a page that needs ``action``: it yields the :class:`Visit`."""

    def guard(request: Request, session: SessionDep, form: FormFields) -> Visit:
        principal = signed_in(request, session)
        if principal is None:
            raise SignInFirst
        request.state.user_id = str(principal.user_id)
        if request.method not in SAFE_METHODS:
            try:
                check_csrf(request, principal, form)
            except ApiError as refused:
                raise PageRefused(403, explain(refused)) from None
        if not may(principal.actor, action):
            refusal = Forbidden(principal.role.value, action.value)
            raise PageRefused(403, explain(refusal))
        return Visit(request, session, principal, form)

    guard.permission = action  # type: ignore[attr-defined]
    return Depends(guard)


def _anyone() -> None:
    """Pages anyone may open (the sign-in page): declared, so no page goes undeclared."""


_anyone.permission = PUBLIC  # type: ignore[attr-defined]
PUBLIC_PAGE: Any = Depends(_anyone)
