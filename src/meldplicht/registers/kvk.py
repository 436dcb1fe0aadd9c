"""A client for the KvK business register ("Basisprofiel" API), with an offline default.

`GET {base}/v1/basisprofielen/{kvkNummer}` answers with the enterprise's `naam`,
`handelsnamen`, `formeleRegistratiedatum` (YYYYMMDD), `materieleRegistratie`
(`datumAanvang`, `datumEinde`), `sbiActiviteiten` ([{sbiCode, sbiOmschrijving,
indHoofdactiviteit: "Ja"/"Nee"}]), `indNonMailing` and `totaalWerkzamePersonen`
(https://developers.kvk.nl/documentation/basisprofiel-api). The API key travels in the
`apikey` header.

A look-up never raises: it returns a `Lookup` whose status says what happened (found, not
found, failed, offline), and `RegisterCounters` count every outcome, retry and cache hit so
monitoring can show a register that is down. Timeouts, connection errors, 429 and 5xx are
retried with exponential backoff; 404 is an answer (not found) and is never retried.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Protocol

import httpx

from meldplicht.core import metrics
from meldplicht.core.config import Settings

log = logging.getLogger("meldplicht.registers.kvk")

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF = 0.25  # seconds before the 2nd attempt; doubled for each later one
DEFAULT_CACHE_SECONDS = 24 * 3600.0
NOT_FOUND_CACHE_SECONDS = 3600.0  # a register can be a little behind a new registration
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A Waadi indicator is not a documented field of the Basisprofiel; accept either of these
# names when a register (or a proxy in front of it) supplies it, and the KvK's wording
# "(Waadi)" in an activity description. UNCONFIRMED: see docs/RULES.md.
WAADI_FIELDS = ("indWaadi", "waadiIndicatie")


class LookupStatus(enum.StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    FAILED = "failed"  # timeout, connection error, 5xx, refused credentials, malformed body
    OFFLINE = "offline"  # no register configured


@dataclass(frozen=True, slots=True)
class SbiActivity:
    code: str
    description: str
    main: bool


@dataclass(frozen=True, slots=True)
class Basisprofiel:
    kvk_number: str
    name: str
    trade_names: tuple[str, ...]
    registered_on: date | None  # formeleRegistratiedatum
    started_on: date | None  # materieleRegistratie.datumAanvang
    ended_on: date | None  # materieleRegistratie.datumEinde
    sbi_activities: tuple[SbiActivity, ...]
    waadi_indicator: bool
    non_mailing: bool

    @property
    def main_sbi_code(self) -> str | None:
        for activity in self.sbi_activities:
            if activity.main:
                return activity.code
        return self.sbi_activities[0].code if self.sbi_activities else None

    @property
    def sbi_codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.sbi_activities)

    def active_on(self, day: date) -> bool:
        return self.ended_on is None or self.ended_on > day


@dataclass(frozen=True, slots=True)
class Lookup:
    kvk_number: str
    status: LookupStatus
    profile: Basisprofiel | None = None
    error: str | None = None
    attempts: int = 0
    from_cache: bool = False


@dataclass(slots=True)
class RegisterCounters:
    """What the client did since it was made (thread-safe increments through `bump`)."""

    lookups: int = 0
    found: int = 0
    not_found: int = 0
    failed: int = 0
    offline: int = 0
    cache_hits: int = 0
    http_requests: int = 0
    retries: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    server_errors: int = 0
    malformed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def bump(self, **by: int) -> None:
        with self._lock:
            for name, amount in by.items():
                setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}


class BusinessRegister(Protocol):
    """What the enrichment needs of a business register."""

    counters: RegisterCounters

    def basisprofiel(self, kvk_number: str) -> Lookup: ...


class MalformedProfile(ValueError):
    """The register answered 200 with a body that is not a Basisprofiel."""


def parse_date(value: Any) -> date | None:
    """KvK dates are YYYYMMDD text; "00" for an unknown month or day is read as the 1st."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if len(text) != 8 or not text.isdigit():
        raise MalformedProfile(f"not a YYYYMMDD date: {text!r}")
    year, month, day = int(text[:4]), int(text[4:6]) or 1, int(text[6:]) or 1
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise MalformedProfile(f"not a date: {text!r}") from exc


def parse_basisprofiel(data: Any, kvk_number: str) -> Basisprofiel:
    if not isinstance(data, Mapping):
        raise MalformedProfile("the body is not a JSON object")
    number = str(data.get("kvkNummer") or "")
    if number != kvk_number:
        raise MalformedProfile(f"kvkNummer {number!r} does not match {kvk_number!r}")
    raw_activities = data.get("sbiActiviteiten") or []
    if not isinstance(raw_activities, list):
        raise MalformedProfile("sbiActiviteiten is not a list")
    activities: list[SbiActivity] = []
    for item in raw_activities:
        if not isinstance(item, Mapping) or not str(item.get("sbiCode") or "").strip():
            raise MalformedProfile("an sbiActiviteiten item has no sbiCode")
        activities.append(
            SbiActivity(
                code=str(item["sbiCode"]).strip(),
                description=str(item.get("sbiOmschrijving") or ""),
                main=str(item.get("indHoofdactiviteit") or "").lower() == "ja",
            )
        )
    trade_names: list[str] = []
    for item in data.get("handelsnamen") or []:
        if isinstance(item, Mapping) and item.get("naam"):
            trade_names.append(str(item["naam"]))
    material = data.get("materieleRegistratie") or {}
    if not isinstance(material, Mapping):
        raise MalformedProfile("materieleRegistratie is not an object")
    waadi = any(str(data.get(name) or "").lower() in ("ja", "true") for name in WAADI_FIELDS)
    waadi = waadi or any("waadi" in a.description.lower() for a in activities)
    name = str(data.get("naam") or data.get("statutaireNaam") or (trade_names or [""])[0])
    return Basisprofiel(
        kvk_number=number,
        name=name,
        trade_names=tuple(trade_names),
        registered_on=parse_date(data.get("formeleRegistratiedatum")),
        started_on=parse_date(material.get("datumAanvang")),
        ended_on=parse_date(material.get("datumEinde")),
        sbi_activities=tuple(activities),
        waadi_indicator=waadi,
        non_mailing=str(data.get("indNonMailing") or "").lower() == "ja",
    )


class OfflineRegister:
    """The default when no register is configured: no look-ups, no network."""

    def __init__(self) -> None:
        self.counters = RegisterCounters()

    def basisprofiel(self, kvk_number: str) -> Lookup:
        self.counters.bump(lookups=1, offline=1)
        return Lookup(kvk_number, LookupStatus.OFFLINE)


class KvkClient:
    """The Basisprofiel API over httpx, with timeouts, retries and a cache with expiry."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: float = DEFAULT_BACKOFF,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        not_found_cache_seconds: float = NOT_FOUND_CACHE_SECONDS,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        headers = {"Accept": "application/json"}
        if api_key:
            headers["apikey"] = api_key
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self._attempts = attempts
        self._backoff = backoff
        self._ttl = {
            LookupStatus.FOUND: cache_seconds,
            LookupStatus.NOT_FOUND: not_found_cache_seconds,
        }
        self._clock = clock
        self._sleep = sleep
        self._cache: dict[str, tuple[float, Lookup]] = {}
        self._cache_lock = threading.Lock()
        self.counters = RegisterCounters()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KvkClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def basisprofiel(self, kvk_number: str) -> Lookup:
        self.counters.bump(lookups=1)
        cached = self._cached(kvk_number)
        if cached is not None:
            self.counters.bump(cache_hits=1, **{cached.status.value: 1})
            return cached
        started = time.monotonic()
        result = self._fetch(kvk_number)
        metrics.register_call(
            "kvk", result.status is not LookupStatus.FAILED, time.monotonic() - started
        )
        self.counters.bump(**{result.status.value: 1})
        ttl = self._ttl.get(result.status)
        if ttl:
            with self._cache_lock:
                self._cache[kvk_number] = (self._clock() + ttl, result)
        if result.status is LookupStatus.FAILED:
            log.warning("kvk look-up of %s failed: %s", kvk_number, result.error)
        return result

    def forget(self, kvk_number: str | None = None) -> None:
        with self._cache_lock:
            if kvk_number is None:
                self._cache.clear()
            else:
                self._cache.pop(kvk_number, None)

    def _cached(self, kvk_number: str) -> Lookup | None:
        with self._cache_lock:
            entry = self._cache.get(kvk_number)
            if entry is None:
                return None
            expires, result = entry
            if self._clock() >= expires:
                del self._cache[kvk_number]
                return None
        return Lookup(
            result.kvk_number,
            result.status,
            result.profile,
            result.error,
            attempts=0,
            from_cache=True,
        )

    def _fetch(self, kvk_number: str) -> Lookup:
        error = "no attempt made"
        for attempt in range(1, self._attempts + 1):
            if attempt > 1:
                self.counters.bump(retries=1)
                self._sleep(self._backoff * 2 ** (attempt - 2))
            self.counters.bump(http_requests=1)
            try:
                response = self._http.get(f"/v1/basisprofielen/{kvk_number}")
            except httpx.TimeoutException as exc:
                self.counters.bump(timeouts=1)
                error = f"timeout: {type(exc).__name__}"
                continue
            except httpx.TransportError as exc:
                self.counters.bump(connection_errors=1)
                error = f"connection error: {type(exc).__name__}: {exc}"
                continue
            if response.status_code == 404:
                return Lookup(kvk_number, LookupStatus.NOT_FOUND, attempts=attempt)
            if response.status_code in RETRY_STATUSES:
                self.counters.bump(server_errors=1)
                error = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                # 400 (a number the register refuses), 401/403 (credentials): asking again
                # gives the same answer.
                return Lookup(
                    kvk_number,
                    LookupStatus.FAILED,
                    error=f"HTTP {response.status_code}",
                    attempts=attempt,
                )
            try:
                profile = parse_basisprofiel(response.json(), kvk_number)
            except (ValueError, MalformedProfile) as exc:
                self.counters.bump(malformed=1)
                return Lookup(
                    kvk_number,
                    LookupStatus.FAILED,
                    error=f"malformed body: {exc}"[:300],
                    attempts=attempt,
                )
            return Lookup(kvk_number, LookupStatus.FOUND, profile, attempts=attempt)
        return Lookup(kvk_number, LookupStatus.FAILED, error=error, attempts=self._attempts)


def register_for(settings: Settings, **options: Any) -> BusinessRegister:
    """The configured register, or the offline one when `kvk_base_url` is empty."""
    if not settings.kvk_base_url:
        return OfflineRegister()
    key = settings.kvk_api_key.get_secret_value() if settings.kvk_api_key else None
    return KvkClient(settings.kvk_base_url, api_key=key, **options)
