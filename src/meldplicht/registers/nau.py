"""A client for the public register of admitted lenders (Nederlandse Autoriteit Uitleenmarkt).

From 1 July 2027 the NAU publishes which lenders of workers are admitted, exempted or under
the transitional arrangement of the Wtta. No public API description of that register was
found, so meldplicht speaks a small JSON contract of its own, which an adapter in front of
the register (or the register itself, once it documents one) answers:

    GET {base}/v1/uitleners/{kvkNummer}
    200 {"kvkNummer": "12345678", "naam": "...", "status": "toegelaten",
         "registernummer": "NAU-000123", "geldigVanaf": "2027-07-01", "geldigTot": null}
    404 the register does not know the lender (an answer, never retried)

`status` is one of toegelaten, voorlopig_toegelaten, ontheffing, overgangsregeling,
geschorst, ingetrokken, afgewezen (the English names of `AdmissionStatus` are accepted too).
Same behaviour as the KvK client: a look-up never raises; timeouts, connection errors, 429
and 5xx are retried with exponential backoff; answers are cached with an expiry; counters
count every outcome. With no `nau_base_url` configured the offline register answers
`offline` without any network use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import httpx

from meldplicht.core import metrics
from meldplicht.core.config import Settings
from meldplicht.registers.kvk import (
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF,
    DEFAULT_CACHE_SECONDS,
    DEFAULT_TIMEOUT,
    NOT_FOUND_CACHE_SECONDS,
    RETRY_STATUSES,
    LookupStatus,
    RegisterCounters,
)
from meldplicht.rules.checks.lender import AdmissionFacts, AdmissionStatus

log = logging.getLogger("meldplicht.registers.nau")

STATUS_WORDS: dict[str, AdmissionStatus] = {
    "toegelaten": AdmissionStatus.ADMITTED,
    "voorlopig_toegelaten": AdmissionStatus.PROVISIONAL,
    "voorlopige_toelating": AdmissionStatus.PROVISIONAL,
    "ontheffing": AdmissionStatus.EXEMPT,
    "overgangsregeling": AdmissionStatus.TRANSITIONAL,
    "geschorst": AdmissionStatus.SUSPENDED,
    "ingetrokken": AdmissionStatus.REVOKED,
    "afgewezen": AdmissionStatus.REFUSED,
    **{
        status.value: status
        for status in AdmissionStatus
        if status is not AdmissionStatus.NOT_FOUND
    },
}


class MalformedAdmission(ValueError):
    """The register answered 200 with a body that is not an admission record."""


@dataclass(frozen=True, slots=True)
class Admission:
    kvk_number: str
    name: str
    status: AdmissionStatus
    register_number: str | None
    valid_from: date | None
    valid_until: date | None

    def as_facts(self, checked_on: date) -> AdmissionFacts:
        return AdmissionFacts(
            kvk_number=self.kvk_number,
            status=self.status,
            checked_on=checked_on,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            register_number=self.register_number,
        )


@dataclass(frozen=True, slots=True)
class AdmissionLookup:
    kvk_number: str
    status: LookupStatus
    admission: Admission | None = None
    error: str | None = None
    attempts: int = 0
    from_cache: bool = False

    def as_facts(self, checked_on: date) -> AdmissionFacts | None:
        """What the check needs; None when the register gave no answer (failed or offline)."""
        if self.status is LookupStatus.FOUND and self.admission is not None:
            return self.admission.as_facts(checked_on)
        if self.status is LookupStatus.NOT_FOUND:
            return AdmissionFacts(self.kvk_number, AdmissionStatus.NOT_FOUND, checked_on)
        return None


class AdmissionRegister(Protocol):
    counters: RegisterCounters

    def lender(self, kvk_number: str) -> AdmissionLookup: ...


def _parse_date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise MalformedAdmission(f"{field} is not a date YYYY-MM-DD: {value!r}") from exc


def parse_admission(data: Any, kvk_number: str) -> Admission:
    if not isinstance(data, Mapping):
        raise MalformedAdmission("the body is not a JSON object")
    number = str(data.get("kvkNummer") or "")
    if number != kvk_number:
        raise MalformedAdmission(f"kvkNummer {number!r} does not match {kvk_number!r}")
    word = str(data.get("status") or "").strip().lower().replace(" ", "_")
    status = STATUS_WORDS.get(word)
    if status is None:
        raise MalformedAdmission(f"unknown status {data.get('status')!r}")
    valid_from = _parse_date(data.get("geldigVanaf"), "geldigVanaf")
    valid_until = _parse_date(data.get("geldigTot"), "geldigTot")
    if valid_from and valid_until and valid_until < valid_from:
        raise MalformedAdmission("geldigTot lies before geldigVanaf")
    register_number = data.get("registernummer")
    return Admission(
        kvk_number=number,
        name=str(data.get("naam") or ""),
        status=status,
        register_number=str(register_number) if register_number else None,
        valid_from=valid_from,
        valid_until=valid_until,
    )


class OfflineAdmissionRegister:
    """The default when no register is configured: no look-ups, no network."""

    def __init__(self) -> None:
        self.counters = RegisterCounters()

    def lender(self, kvk_number: str) -> AdmissionLookup:
        self.counters.bump(lookups=1, offline=1)
        return AdmissionLookup(kvk_number, LookupStatus.OFFLINE)


class NauClient:
    """The admission register over httpx, with timeouts, retries and a cache with expiry."""

    def __init__(
        self,
        base_url: str,
        *,
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
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )
        self._attempts = attempts
        self._backoff = backoff
        self._ttl = {
            LookupStatus.FOUND: cache_seconds,
            LookupStatus.NOT_FOUND: not_found_cache_seconds,
        }
        self._clock = clock
        self._sleep = sleep
        self._cache: dict[str, tuple[float, AdmissionLookup]] = {}
        self._cache_lock = threading.Lock()
        self.counters = RegisterCounters()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NauClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def lender(self, kvk_number: str) -> AdmissionLookup:
        self.counters.bump(lookups=1)
        with self._cache_lock:
            entry = self._cache.get(kvk_number)
            if entry is not None and self._clock() >= entry[0]:
                del self._cache[kvk_number]
                entry = None
        if entry is not None:
            cached = entry[1]
            self.counters.bump(cache_hits=1, **{cached.status.value: 1})
            return AdmissionLookup(
                cached.kvk_number, cached.status, cached.admission, cached.error, 0, True
            )
        started = time.monotonic()
        result = self._fetch(kvk_number)
        metrics.register_call(
            "nau", result.status is not LookupStatus.FAILED, time.monotonic() - started
        )
        self.counters.bump(**{result.status.value: 1})
        ttl = self._ttl.get(result.status)
        if ttl:
            with self._cache_lock:
                self._cache[kvk_number] = (self._clock() + ttl, result)
        if result.status is LookupStatus.FAILED:
            log.warning("admission look-up of %s failed: %s", kvk_number, result.error)
        return result

    def _fetch(self, kvk_number: str) -> AdmissionLookup:
        error = "no attempt made"
        for attempt in range(1, self._attempts + 1):
            if attempt > 1:
                self.counters.bump(retries=1)
                self._sleep(self._backoff * 2 ** (attempt - 2))
            self.counters.bump(http_requests=1)
            try:
                response = self._http.get(f"/v1/uitleners/{kvk_number}")
            except httpx.TimeoutException as exc:
                self.counters.bump(timeouts=1)
                error = f"timeout: {type(exc).__name__}"
                continue
            except httpx.TransportError as exc:
                self.counters.bump(connection_errors=1)
                error = f"connection error: {type(exc).__name__}: {exc}"
                continue
            if response.status_code == 404:
                return AdmissionLookup(kvk_number, LookupStatus.NOT_FOUND, attempts=attempt)
            if response.status_code in RETRY_STATUSES:
                self.counters.bump(server_errors=1)
                error = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                return AdmissionLookup(
                    kvk_number,
                    LookupStatus.FAILED,
                    error=f"HTTP {response.status_code}",
                    attempts=attempt,
                )
            try:
                admission = parse_admission(response.json(), kvk_number)
            except ValueError as exc:  # includes MalformedAdmission and bad JSON
                self.counters.bump(malformed=1)
                return AdmissionLookup(
                    kvk_number,
                    LookupStatus.FAILED,
                    error=f"malformed body: {exc}"[:300],
                    attempts=attempt,
                )
            return AdmissionLookup(kvk_number, LookupStatus.FOUND, admission, attempts=attempt)
        return AdmissionLookup(
            kvk_number, LookupStatus.FAILED, error=error, attempts=self._attempts
        )


def admission_register_for(settings: Settings, **options: Any) -> AdmissionRegister:
    """The configured admission register, or the offline one when `nau_base_url` is empty."""
    if not settings.nau_base_url:
        return OfflineAdmissionRegister()
    return NauClient(settings.nau_base_url, **options)
