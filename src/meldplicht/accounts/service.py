"""Issuing, revoking and checking API keys; checking passwords, with lock-out and throttling."""

from __future__ import annotations

import functools
import hashlib
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, Table, bindparam, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from meldplicht.accounts.models import ApiKey, Role, UserAccount
from meldplicht.accounts.ratelimit import RateLimiter
from meldplicht.core.clock import utcnow
from meldplicht.core.errors import NotFound, Unauthorized
from meldplicht.core.security import (
    Principal,
    generate_api_key,
    hash_password,
    secret_matches,
    split_api_key,
    verify_password,
)

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    title = "API key not found"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    token: str


def issue_key(
    session: Session,
    *,
    role: Role,
    name: str,
    employer_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> IssuedKey:
    if role is Role.EMPLOYER and employer_id is None:
        raise ValueError("an employer key must be bound to an employer")
    new = generate_api_key()
    key = ApiKey(
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        name=name,
        role=role,
        employer_id=employer_id,
        user_id=user_id,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, token=new.token)


def revoke_key(session: Session, prefix: str) -> ApiKey:
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if key is None:
        raise ApiKeyNotFound(f"No key with prefix {prefix}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        session.flush()
    forget_checked_keys()
    return key


class KeyCache:
    """The principals of API keys checked in the last `ttl` seconds, so that a burst of
    requests with one key asks the database once rather than on every request.

    Entries are keyed by a SHA-256 digest of the whole token (the secret is never kept), and
    live `ttl` seconds: a key revoked by another process keeps working that long at most; a
    revocation in this process (`revoke_key`) empties every cache at once. The key's
    last-used time is still written on a look-up, at most once a minute as before; with a
    `ttl` under a minute it stays as exact as that.
    """

    def __init__(self, ttl: float, size: int = 1024) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[bytes, tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        _KEY_CACHES.add(self)

    @staticmethod
    def _digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str) -> Principal | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(self._digest(token))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
                if len(self._entries) >= self.size:
                    self._entries.clear()
            self._entries[self._digest(token)] = (now + self.ttl, principal)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_KEY_CACHES: weakref.WeakSet[KeyCache] = weakref.WeakSet()


def forget_checked_keys() -> None:
    """Empty every KeyCache of this process (a key was revoked)."""
    for cache in list(_KEY_CACHES):
        cache.clear()


def invalid_key() -> Unauthorized:
    return Unauthorized(
        "The API key is missing, malformed, unknown or revoked.",
        headers={"WWW-Authenticate": 'Bearer realm="meldplicht"'},
    )


def _valid_key(session: Session, token: str) -> Row[Any]:
    parts = split_api_key(token)
    if parts is None:
        raise invalid_key()
    prefix, secret = parts
    # The columns only, not an ORM object: this runs on every API request.
    key = session.execute(_KEY_BY_PREFIX, {"prefix": prefix}).first()
    if key is None or key.revoked_at is not None or not secret_matches(secret, key.secret_hash):
        raise invalid_key()
    return key


def check_token(session: Session, token: str) -> None:
    """Raises Unauthorized unless `token` is a live key; reads only (writes nothing)."""
    _valid_key(session, token)


def authenticate_token(session: Session, token: str) -> Principal:
    key = _valid_key(session, token)
    now = utcnow()
    # Write last-used at most once a minute so reads don't all become writes.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        session.exec(update(ApiKey).where(col(ApiKey.id) == key.id).values(last_used_at=now))
    return Principal(
        role=key.role,
        actor_id=f"key:{key.prefix}",
        employer_id=key.employer_id,
        display_name=key.name,
        user_id=key.user_id,
    )


_api_key: Table = ApiKey.__table__  # type: ignore[attr-defined]
# A plain (Core) statement, built once: no ORM entity to load, no statement to build per call.
_KEY_BY_PREFIX = sa_select(
    _api_key.c.id,
    _api_key.c.prefix,
    _api_key.c.secret_hash,
    _api_key.c.name,
    _api_key.c.role,
    _api_key.c.employer_id,
    _api_key.c.user_id,
    _api_key.c.last_used_at,
    _api_key.c.revoked_at,
).where(_api_key.c.prefix == bindparam("prefix"))


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    employer_id: uuid.UUID | None = None,
) -> UserAccount:
    user = UserAccount(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        employer_id=employer_id,
    )
    session.add(user)
    session.flush()
    return user


def end_sessions(session: Session, user_id: uuid.UUID) -> None:
    """End every page session of the account, on every device, at once.

    One UPDATE that adds one to the generation in the database (not a read-modify-write), so
    two sign-outs at the same moment cannot undo each other.
    """
    session.exec(
        update(UserAccount)
        .where(col(UserAccount.id) == user_id)
        .values(session_generation=col(UserAccount.session_generation) + 1)
    )
    known = session.identity_map.get(identity_key(UserAccount, user_id))
    if known is not None:
        session.refresh(known, ["session_generation"])


def set_password(session: Session, user: UserAccount, password: str) -> None:
    """A new password; every session signed in with the old one ends."""
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    session.flush()
    end_sessions(session, user.id)


def set_disabled(session: Session, user: UserAccount, disabled: bool = True) -> None:
    """Disable (or enable again) an account; disabling ends its sessions and keeps its keys
    from reaching inspection routes (inspection/dependencies.py re-reads the account)."""
    user.disabled = disabled
    session.add(user)
    session.flush()
    if disabled:
        end_sessions(session, user.id)


@functools.cache
def _dummy_hash() -> str:
    # Checked when the username is unknown, so that answer takes as long as a wrong password.
    # Made on first use: Argon2 is slow on purpose, and most processes never sign anyone in.
    return hash_password("not-a-real-password-" + uuid.uuid4().hex)


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    limiter: RateLimiter | None = None,
    client_address: str | None = None,
) -> UserAccount | None:
    """The account if the password is right and the account is usable; counts failures.

    After MAX_FAILED_LOGINS wrong passwords the account is locked for LOCKOUT, which blunts
    password guessing; the answer is the same for unknown, locked and wrong (no user
    enumeration), and so is its time: every path does one Argon2 verify. With a `limiter`,
    attempts per username and per client address are also counted in a sliding window, and
    one too many raises `RateLimited` (429, Retry-After) before the password is checked.
    """
    if limiter is not None:
        limiter.check_login(username, client_address)
    account = session.exec(
        select(UserAccount).where(UserAccount.username == username.strip())
    ).first()
    # One Argon2 verify on every path (unknown, locked, disabled, wrong, right), so the time
    # of the answer does not tell which it was.
    if account is None:
        verify_password(password, _dummy_hash())
        return None
    correct = verify_password(password, account.password_hash)
    now = utcnow()
    if account.locked_until is not None and account.locked_until > now:
        return None  # a lock is not extended by more guesses: it ends LOCKOUT after it began
    if account.disabled or not correct:
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILED_LOGINS:
            account.locked_until = now + LOCKOUT
            account.failed_logins = 0
        session.add(account)
        return None
    account.failed_logins = 0
    account.locked_until = None
    session.add(account)
    return account
