"""Sliding-window rate limits: intake per API key, sign-in per account and per client address,
signals from outside per client address and in all.

The windows live in the memory of one process (one `RateLimiter` per application, kept on
`app.state`). With several web processes each one counts on its own, so the effective limit is
the configured limit times the number of processes; docs/SECURITY.md says so. That is enough to
stop a runaway client or a password-guessing script; the account lock-out (in the database,
accounts/service.py) holds across processes.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from meldplicht.core.errors import TooManyRequests

# The intake endpoints: every notification write, the bulk upload and payroll deliveries.
INTAKE_PREFIXES = ("/api/v1/notifications", "/api/v1/payroll/imports")


class RateLimitSettings(BaseSettings):
    """The limits (environment: MELDPLICHT_RATE_LIMIT_*); docs/SECURITY.md lists them."""

    model_config = SettingsConfigDict(
        env_prefix="MELDPLICHT_RATE_LIMIT_", env_file=".env", extra="ignore"
    )

    window_seconds: float = Field(60.0, gt=0, description="Length of the sliding window.")
    intake_per_key: int = Field(
        600, ge=1, description="Intake requests (notify, change, bulk, payroll) per API key."
    )
    login_per_account: int = Field(10, ge=1, description="Sign-in attempts per username.")
    login_per_address: int = Field(30, ge=1, description="Sign-in attempts per client address.")
    signal_window_seconds: float = Field(
        3600.0, gt=0, description="Length of the window for signals from outside."
    )
    signals_per_address: int = Field(
        5, ge=1, description="Signals (worker page and partner API) per client address."
    )
    signals_total: int = Field(
        500, ge=1, description="Signals from all senders together, so a spread cannot flood."
    )


class RateLimited(TooManyRequests):
    code = "rate_limited"
    title = "Too many requests"


class _Clock(Protocol):
    def __call__(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int  # whole seconds until the oldest counted request leaves the window


class SlidingWindow:
    """At most `limit` events per `window` seconds for each key (thread-safe)."""

    def __init__(self, limit: int, window: float, clock: _Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def hit(self, key: str) -> Verdict:
        now = self._clock()
        with self._lock:
            self._calls += 1
            if self._calls % 1024 == 0:
                self._forget_idle(now)
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                wait = events[0] + self.window - now
                return Verdict(False, max(1, math.ceil(wait)))
            events.append(now)
            return Verdict(True, 0)

    def _forget_idle(self, now: float) -> None:
        # Keys that have not been seen for a whole window hold nothing: drop them (memory).
        idle = [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]
        for key in idle:
            del self._events[key]


class RateLimiter:
    """The windows of one application."""

    def __init__(self, settings: RateLimitSettings | None = None, clock: _Clock | None = None):
        s = settings or RateLimitSettings()
        tick: _Clock = clock or time.monotonic
        self.settings = s
        self.intake = SlidingWindow(s.intake_per_key, s.window_seconds, tick)
        self.login_account = SlidingWindow(s.login_per_account, s.window_seconds, tick)
        self.login_address = SlidingWindow(s.login_per_address, s.window_seconds, tick)
        self.signal_address = SlidingWindow(s.signals_per_address, s.signal_window_seconds, tick)
        self.signal_total = SlidingWindow(s.signals_total, s.signal_window_seconds, tick)
        # Signals are counted per sender without keeping the sender's address: the window's
        # key is a keyed hash of it, with a key that lives only in this process's memory.
        self._signal_key = secrets.token_bytes(32)

    def check_intake(self, actor_id: str) -> None:
        _enforce(self.intake.hit(actor_id), "Too many intake requests with this API key.")

    def check_login(self, username: str, address: str | None) -> None:
        # Both windows count every attempt, so neither a spray over many accounts from one
        # address nor a spread of addresses against one account gets through.
        by_account = self.login_account.hit(username.strip().lower())
        by_address = self.login_address.hit(address) if address else Verdict(True, 0)
        _enforce(by_account, "Too many sign-in attempts for this account.")
        _enforce(by_address, "Too many sign-in attempts from this address.")

    def signal_sender(self, address: str | None) -> str:
        """The window key of a sender: not the address, and not reversible to it."""
        digest = hmac.new(self._signal_key, (address or "").encode(), hashlib.sha256)
        return digest.hexdigest()

    def check_signal(self, address: str | None) -> None:
        by_sender = self.signal_address.hit(self.signal_sender(address))
        _enforce(by_sender, "Too many signals from this connection.")
        _enforce(self.signal_total.hit("all"), "Too many signals are arriving just now.")


def _enforce(verdict: Verdict, message: str) -> None:
    if not verdict.allowed:
        raise RateLimited(
            f"{message} Retry after {verdict.retry_after} seconds.",
            headers={"Retry-After": str(verdict.retry_after)},
        )


_app_lock = threading.Lock()


def limiter_for(state: Any, factory: Callable[[], RateLimiter] = RateLimiter) -> RateLimiter:
    """The application's limiter (`app.state.rate_limiter`), made on first use."""
    limiter = getattr(state, "rate_limiter", None)
    if isinstance(limiter, RateLimiter):
        return limiter
    with _app_lock:
        limiter = getattr(state, "rate_limiter", None)
        if not isinstance(limiter, RateLimiter):
            limiter = factory()
            state.rate_limiter = limiter
        return limiter


def is_intake(method: str, path: str) -> bool:
    return method == "POST" and path.startswith(INTAKE_PREFIXES)
