"""Refusals of the accounts service, each with its stable ``code`` (see press.errors)."""

from __future__ import annotations

from cidery.press.errors import PressError


class NotAuthenticated(PressError):
    """No valid session or token came with the request (or it expired or was revoked)."""

    code = "not_authenticated"


class SignInFailed(PressError):
    """Wrong email or password: the same answer whichever of the two was wrong."""

    code = "sign_in_failed"

    def __init__(self) -> None:
        super().__init__("the email or the password is wrong")


class SignInThrottled(PressError):
    """Too many failed sign-ins of this account or from this address; wait and retry."""

    code = "too_many_attempts"
    retryable = True

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many failed sign-ins: try again in {retry_after_s} s",
            retry_after_s=retry_after_s,
        )
        self.retry_after_s = retry_after_s


class EmailTaken(PressError):
    code = "email_taken"

    def __init__(self, email: str) -> None:
        super().__init__(f"a user with the email {email} already exists", email=email)


class LastAdmin(PressError):
    """The change would leave no active admin to manage users."""

    code = "last_admin"

    def __init__(self) -> None:
        super().__init__("the cidery's only active admin cannot be demoted or deactivated")
