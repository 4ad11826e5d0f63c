"""Who is asking and whether they may: authentication, CSRF, and each route's permission.

Every route declares one :data:`Permission` through :func:`allow`: ``PUBLIC`` (no
sign-in: health, sign-in), ``SIGNED_IN`` (any role: one's own account and tokens),
or an :class:`~cidery.press.access.Action` of the one permission table in
:mod:`cidery.press.access`. The route's dependency authenticates and checks the
table before the request's input is read, and hands the handler a :class:`Call`,
whose :meth:`Call.run` does the handler's work in the request's one transaction;
the services check the same table again, so a route declared too widely still
cannot act.

A browser authenticates with the session cookie; its unsafe requests (POST,
PATCH, …) must also carry the session's CSRF token in ``X-CSRF-Token`` (the pages'
plain forms: in the ``csrf_token`` field) and come from this app's origin
(``Origin``, else ``Referer``). A program sends
``Authorization: Bearer <API token>``: no cookie, so no CSRF check is needed.
"""

from __future__ import annotations

import enum
import functools
import hmac
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import Depends, Request, Response, Security
from fastapi.security import APIKeyCookie, HTTPBearer
from sqlalchemy.orm import Session

from cidery import accounts
from cidery.accounts.errors import NotAuthenticated
from cidery.accounts.rules import ABSOLUTE_LIMIT
from cidery.api.problems import ApiError
from cidery.press.access import Action, Actor, may
from cidery.press.errors import Forbidden

SESSION_COOKIE = "cidery_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"  # the hidden field of the pages' forms (cidery.web)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

T = TypeVar("T")


# How the OpenAPI document names the two ways in (its ``securitySchemes``). They
# only declare: :func:`authenticate` reads the cookie and the header itself.
SESSION_SCHEME = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="session",
    description=(
        "The session cookie set by POST /api/v1/auth/sign-in; unsafe requests also send "
        f"the sign-in's csrf_token in {CSRF_HEADER}."
    ),
    auto_error=False,
)
TOKEN_SCHEME = HTTPBearer(
    scheme_name="api_token",
    bearerFormat="cidery API token",
    description="An API token (POST /api/v1/auth/tokens) as `Authorization: Bearer <token>`.",
    auto_error=False,
)
SessionCookie = Annotated[str | None, Security(SESSION_SCHEME)]
BearerToken = Annotated[object, Security(TOKEN_SCHEME)]


class Access(enum.Enum):
    PUBLIC = "public"
    SIGNED_IN = "signed in"


PUBLIC = Access.PUBLIC
SIGNED_IN = Access.SIGNED_IN
Permission = Access | Action


@dataclass
class Call:
    """What a handler gets: who is asking, and the request's one transaction.

    The route's dependency (:func:`allow`) opens the session, authenticates and checks
    the permission in one worker thread; the handler then does its work with
    :meth:`run`, in one more, which commits. Two thread hops a request (a sync handler
    and sync dependencies cost FastAPI a hop each for every dependency, generator step
    and response check: about twenty).
    """

    request: Request
    permission: Permission
    principal: accounts.Principal | None = None
    _session: Session | None = field(default=None, repr=False)

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the request's session is used outside Call.run")
        return self._session

    @property
    def actor(self) -> Actor:
        if self.principal is None:
            raise NotAuthenticated("sign in first")
        return self.principal.actor

    @property
    def signed_in(self) -> accounts.Principal:
        if self.principal is None:
            raise NotAuthenticated("sign in first")
        return self.principal

    def _admit(self) -> None:
        self._session = self.request.app.state.sessions()
        try:
            self.principal = admit(self.request, self.session, self.permission)
        except BaseException:
            self._close(commit=False)
            raise

    def _close(self, *, commit: bool) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    def _work(self, work: Callable[[Call], T]) -> T:
        try:
            result = work(self)
        except BaseException:
            self._close(commit=False)
            raise
        # Committed before the answer is sent: a client never sees a success that was
        # not committed. A failing commit is an error answer like any other.
        self._close(commit=True)
        return result

    async def run(self, work: Callable[[Call], T]) -> T:
        """Do the request's work (``work(call)``) in a worker thread, then commit."""
        return await anyio.to_thread.run_sync(self._work, work)


def database_session(request: Request) -> Iterator[Session]:
    """One transaction per request of the pages: committed when the handler returns,
    else rolled back (the API's handlers use :class:`Call` instead).

    Used with ``scope="function"``, so the commit happens before the answer is sent:
    a client never sees a success that was not committed.
    """
    session: Session = request.app.state.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(database_session, scope="function")]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise NotAuthenticated("the Authorization header must be 'Bearer <API token>'")
    return credentials.strip()


def authenticate(request: Request, session: Session) -> accounts.Principal | None:
    token = _bearer(request)
    if token is not None:
        principal = accounts.by_token(session, token)
        if principal is None:
            raise NotAuthenticated("the API token is unknown, expired or revoked")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = accounts.by_session(session, cookie)
        if principal is None:
            raise NotAuthenticated("the session has ended (signed out, idle or too old)")
        return principal
    return None


def sign_in_browser(
    request: Request, session: Session, credentials: object
) -> accounts.SignInResult:
    """Sign a browser in (the API's sign-in and the pages' alike): the session it had
    ends now, and the attempt counts for its address (back-off) and user agent."""
    earlier = request.cookies.get(SESSION_COOKIE)
    if earlier:
        accounts.sign_out(session, earlier)
    client = request.client
    return accounts.sign_in(
        session,
        credentials,
        address=client.host if client else None,
        user_agent=request.headers.get("user-agent"),
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The browser's session cookie, for the API's sign-in and the pages' alike."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ABSOLUTE_LIMIT.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies or request.url.scheme == "https",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: Request) -> None:
    """A write a browser sends from another site's page is refused.

    Browsers send ``Origin`` (else ``Referer``) with every write; a request without
    either did not come from a page, and the CSRF token or the lack of a cookie
    decides for it.
    """
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return
    own = _origin_of(str(request.base_url))
    trusted = {own, *request.app.state.settings.trusted_origins}
    if _origin_of(origin) not in trusted:
        raise ApiError("csrf_failed", "the request came from another site")


def check_csrf(
    request: Request, principal: accounts.Principal, form: Mapping[str, str] | None = None
) -> None:
    """A cookie-authenticated write must come from this app's pages.

    The token travels in the ``X-CSRF-Token`` header (scripts) or, for a plain form
    posted by a page (``form``, its fields), in its ``csrf_token`` field.
    """
    if form is None:
        sent, where = request.headers.get(CSRF_HEADER, ""), f"the {CSRF_HEADER} header"
    else:
        sent, where = form.get(CSRF_FIELD, ""), f"the form's {CSRF_FIELD} field"
    expected = principal.csrf_token
    # Compared as bytes: compare_digest refuses a str with non-ASCII characters.
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ApiError("csrf_failed", f"{where} is missing or wrong")
    check_origin(request)


def admit(request: Request, session: Session, permission: Permission) -> accounts.Principal | None:
    """Who is asking, if they may call a route of ``permission`` (else the refusal)."""
    try:
        principal = authenticate(request, session)
    except NotAuthenticated:
        if permission is not PUBLIC:
            raise
        # A public route needs no sign-in: credentials that no longer hold (the
        # cookie of a session that ended) must not stop a browser signing in again.
        principal = None
    if principal is not None:
        request.state.user_id = str(principal.user_id)
    if permission is PUBLIC:
        # Signing in from another site's page would sign the victim in as the
        # attacker ("login CSRF"): public writes too must come from here.
        if request.method not in SAFE_METHODS:
            check_origin(request)
        return principal
    if principal is None:
        raise NotAuthenticated("sign in first, or send an API token")
    if principal.by_cookie and request.method not in SAFE_METHODS:
        check_csrf(request, principal)
    if isinstance(permission, Action) and not may(principal.actor, permission):
        raise Forbidden(principal.role.value, permission.value)
    return principal


def allow(permission: Permission) -> Any:
    """The dependency of a route that requires ``permission``; it yields the :class:`Call`.

    Refusals (401, 403) come before the request's input is read, so a caller who may
    not call a route learns nothing from it, not even whether the input was valid. A
    route that needs a sign-in declares both security schemes (either one will do), so
    its operation in the OpenAPI document lists them; a public route declares none.
    """

    async def admitted(request: Request) -> AsyncIterator[Call]:
        call = Call(request, permission)
        await anyio.to_thread.run_sync(call._admit)
        try:
            yield call
        finally:
            if call._session is not None:  # the handler never ran (invalid input)
                await anyio.to_thread.run_sync(functools.partial(call._close, commit=False))

    async def public(request: Request) -> AsyncIterator[Call]:
        async for call in admitted(request):
            yield call

    async def signed_in(
        request: Request, _cookie: SessionCookie, _token: BearerToken
    ) -> AsyncIterator[Call]:
        async for call in admitted(request):
            yield call

    guard: Callable[..., AsyncIterator[Call]] = public if permission is PUBLIC else signed_in
    guard.permission = permission  # type: ignore[attr-defined]
    return Depends(guard, scope="function")


def permission_of(dependency: Callable[..., Any]) -> Permission | None:
    return getattr(dependency, "permission", None)
