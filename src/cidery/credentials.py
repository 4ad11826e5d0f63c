"""Secrets: password hashes (argon2id) and the random tokens of sessions and API tokens.

Passwords, chosen by people, get argon2id through pwdlib with its recommended
parameters. Checking a password costs the same whether or not the account exists:
an unknown email is checked against a hash made once per process, so the time a
refused sign-in takes does not tell which emails have accounts.

A session or API token carries 256 random bits, so the SHA-256 of it is as good as a
slow hash (nobody can guess the preimage) and looking a digest up by index stays one
probe per request. Only digests are stored.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_LENGTH = 10
MAX_LENGTH = 256


@cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@cache
def _stand_in() -> str:
    return _hasher().hash("a password no account has")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches; ``None`` (no such account) is checked and refused.

    A hash in no format pwdlib knows (the sample data's placeholder) never matches.
    """
    if password_hash is None:
        _hasher().verify(password, _stand_in())
        return False
    try:
        return _hasher().verify(password, password_hash)
    except Exception:  # pwdlib's UnknownHashError and malformed hashes alike
        _hasher().verify(password, _stand_in())
        return False


TOKEN_PREFIX = "cidery_"
# A token's start, shown in lists to tell tokens apart: the prefix and 5 characters,
# 30 of its bits, which reveal nothing useful of the other 226.
SHOWN_CHARS = len(TOKEN_PREFIX) + 5


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()
