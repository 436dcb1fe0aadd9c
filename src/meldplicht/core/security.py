"""Credentials: API key generation and checking, password hashing, and the caller's identity."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

KEY_PREFIX = "mpk"
_password_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a role, the credential's id, and the employer it is bound to if any."""

    role: str
    actor_id: str
    employer_id: uuid.UUID | None = None
    display_name: str = ""
    user_id: uuid.UUID | None = None  # the person behind the credential, where there is one


@dataclass(frozen=True, slots=True)
class NewApiKey:
    token: str  # shown once
    prefix: str
    secret_hash: str


def hash_secret(secret: str) -> str:
    # API key secrets are 256 random bits, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_api_key() -> NewApiKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewApiKey(
        token=f"{KEY_PREFIX}_{prefix}_{secret}", prefix=prefix, secret_hash=hash_secret(secret)
    )


def split_api_key(token: str) -> tuple[str, str] | None:
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
