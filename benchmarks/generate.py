"""A fast, seeded generator of a national-scale meldplicht database (and of upload files).

Writes employers, inspectors, workers (keyed BSN hash + Fernet ciphertext), notifications with
their version-1 rows and work locations, flags and payroll records straight into a freshly
migrated database: COPY on PostgreSQL, executemany on SQLite, never through the API. The same
seed gives the same rows (only the Fernet tokens differ: Fernet draws a random IV by design).

    .venv/bin/python benchmarks/generate.py --db sqlite --notifications 100000
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr

from common import SECRET_KEY, Backend, Database, fresh_database
from meldplicht.core.config import Settings
from meldplicht.core.crypto import PersonalDataCipher, cipher_for, mask_bsn
from meldplicht.core.migrations import upgrade
from meldplicht.flags import geo, risk
from meldplicht.flags.sync import fingerprint
from meldplicht.notifications import csv_format
from meldplicht.notifications.models import VERIFICATION_ALPHABET
from meldplicht.rules.checks.base import REGISTRY
from meldplicht.rules.params import get_parameters

# The generated world is seen from this day: notices run up to it, the sweep runs as of it.
AS_OF = date(2026, 3, 10)
# The payroll period already in the database, and the one the import benchmark delivers.
PAYROLL_PERIOD = (date(2026, 2, 1), date(2026, 2, 28))
IMPORT_PERIOD = (date(2026, 1, 1), date(2026, 1, 31))
HISTORY_DAYS = 720
CHUNK = 20_000  # notifications per write batch: memory stays flat at any size
CENT = Decimal("0.01")

GIVEN = [
    ("Olena", "Олена"), ("Oksana", "Оксана"), ("Iryna", "Ірина"), ("Nataliia", "Наталія"),
    ("Tetiana", "Тетяна"), ("Yuliia", "Юлія"), ("Andrii", "Андрій"), ("Oleksandr", "Олександр"),
    ("Serhii", "Сергій"), ("Dmytro", "Дмитро"), ("Mykola", "Микола"), ("Vasyl", "Василь"),
]  # fmt: skip
SURNAMES = [
    ("Kovalenko", "Коваленко"), ("Shevchenko", "Шевченко"), ("Bondarenko", "Бондаренко"),
    ("Tkachenko", "Ткаченко"), ("Kravchenko", "Кравченко"), ("Oliinyk", "Олійник"),
    ("Melnyk", "Мельник"), ("Boiko", "Бойко"), ("Moroz", "Мороз"), ("Lysenko", "Лисенко"),
]  # fmt: skip
JOBS = [
    ("Productiemedewerker", "CAO Glastuinbouw", "0113"),
    ("Orderpicker", "CAO Beroepsgoederenvervoer", "5210"),
    ("Schoonmaker", "CAO Schoonmaak- en glazenwassersbedrijf", "8121"),
    ("Medewerker vleesverwerking", "CAO Vleessector", "1011"),
    ("Afwasser", "CAO Horeca", "5610"),
    ("Bouwplaatsmedewerker", "CAO Bouw & Infra", "4120"),
    ("Magazijnmedewerker", "CAO Uitzendkrachten", "7820"),
    ("Kassamedewerker", "CAO Supermarkten", "4711"),
    ("Verzorgende", "CAO VVT", "8710"),
    ("Programmeur", None, "6201"),
]
STREETS = ["Dorpsstraat", "Kerkstraat", "Industrieweg", "Tuinbouwweg", "Havenstraat", "Stationsweg"]
CITIES = {
    10: "Amsterdam", 20: "Haarlem", 22: "Leiden", 26: "Naaldwijk", 30: "Rotterdam",
    35: "Utrecht", 52: "Den Bosch", 56: "Eindhoven", 59: "Venlo", 68: "Arnhem",
    75: "Enschede", 80: "Zwolle", 89: "Leeuwarden", 97: "Groningen", 44: "Goes", 13: "Almere",
}  # fmt: skip
POSTCODE_AREAS = list(CITIES)
LETTERS = "ABCDEFGHJKLMNPRTVWXZ"
NATIONALITIES = ["UKR"] * 95 + ["RUS", "BLR", "NGA", "IND", "MAR"]
CONTRACTS = (
    ["fixed_term"] * 45 + ["open_ended"] * 20 + ["on_call"] * 10
    + ["temporary_agency"] * 20 + ["payroll"] * 5
)  # fmt: skip
PERIODS = ["hour"] * 70 + ["month"] * 20 + ["week"] * 5 + ["four_weeks"] * 5
HOURS = [Decimal(h) for h in (38, 38, 40, 40, 36, 32, 24, 20, 16)]
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RULES = {info.code: info for info, _ in REGISTRY}


# --- identifiers ---------------------------------------------------------------------------


def bsn_for(index: int) -> str:
    """The index-th of a fixed sequence of distinct valid BSNs (11-test, weights 9..2, -1).

    Candidate k = 16 * index + attempt runs through a bijection on the 8-digit prefixes; the
    ninth digit is the check digit, and a prefix whose check digit would be 10 is skipped.
    Distinct for index < 5,500,000.
    """
    for attempt in range(16):
        k = 16 * index + attempt
        digits = f"{10_000_000 + (k * 7_919_017) % 89_000_000:08d}"
        total = sum(int(d) * w for d, w in zip(digits, range(9, 1, -1), strict=True))
        if total % 11 < 10:
            return digits + str(total % 11)
    raise ValueError(f"no valid BSN for index {index}")  # pragma: no cover - 1 in 11**16


def lhn_for(index: int) -> str:
    """A valid loonheffingennummer (an RSIN-like number from another part of the sequence)."""
    return bsn_for(3_000_000 + index) + "L01"


def is_valid_bsn(value: str) -> bool:
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return (
        len(value) == 9 and sum(int(d) * w for d, w in zip(value, weights, strict=True)) % 11 == 0
    )


def receipt_for(index: int, year: int) -> str:
    n = (index * 1_000_000_007) % (32**8)
    body = "".join(RECEIPT_ALPHABET[(n >> (5 * k)) & 31] for k in range(7, -1, -1))
    return f"MP{year % 100:02d}-{body[:4]}-{body[4:]}"


def verification_code_for(index: int) -> str:
    """A receipt's verification code (20 of Crockford's base32, as intake makes them): unique
    per index (its first 8 characters are a bijection of it) and seeded by nothing else, so
    the generator stays deterministic; the other 12 come from a hash of the index."""
    n = (index * 1_000_000_007) % (32**8)
    head = "".join(VERIFICATION_ALPHABET[(n >> (5 * k)) & 31] for k in range(7, -1, -1))
    digest = int.from_bytes(hashlib.sha256(b"vc%d" % index).digest()[:8], "big")
    tail = "".join(VERIFICATION_ALPHABET[(digest >> (5 * k)) & 31] for k in range(12))
    return head + tail


def postcode(rng: random.Random) -> str:
    area = rng.choice(POSTCODE_AREAS)
    while True:
        letters = rng.choice(LETTERS) + rng.choice(LETTERS)
        if letters not in ("SA", "SD", "SS"):
            return f"{area}{rng.randint(10, 99)} {letters}"


def city_of(code: str) -> str:
    return CITIES.get(int(code[:2]), "Rotterdam")


def uuid_from(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


# --- wages ---------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def hourly_minimum(day: date) -> dict[int, Decimal]:
    table = get_parameters().at("wml_hourly", max(day, date(2024, 1, 1))).value
    return {int(age): Decimal(str(rate)) for age, rate in table.items()}


def minimum_for(age: int, day: date) -> Decimal:
    table = hourly_minimum(day)
    return table[min(max(age, min(table)), max(table))]


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def period_amount(hourly: Decimal, period: str, hours: Decimal) -> Decimal:
    factor = {"hour": Decimal(1), "week": hours, "four_weeks": 4 * hours}.get(
        period, hours * 13 / 3
    )
    return (hourly * factor).quantize(CENT, rounding=ROUND_UP)


# --- the rows ------------------------------------------------------------------------------

# Column kinds: U uuid, S text, D date, T UTC instant, N numeric, B boolean, I integer, J JSON.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "employer": (
        ("id", "U"), ("kvk_number", "S"), ("loonheffingennummer", "S"), ("name", "S"),
        ("street", "S"), ("house_number", "S"), ("postcode", "S"), ("city", "S"),
        ("sbi_code", "S"), ("sector", "S"), ("is_staffing_agency", "B"), ("created_at", "T"),
    ),
    "user_account": (
        ("id", "U"), ("username", "S"), ("display_name", "S"), ("role", "S"),
        ("password_hash", "S"), ("failed_logins", "I"), ("disabled", "B"), ("created_at", "T"),
    ),
    "worker": (
        ("id", "U"), ("employer_id", "U"), ("bsn_hash", "S"), ("bsn_encrypted", "S"),
        ("bsn_last3", "S"), ("given_names", "S"), ("surname", "S"),
        ("given_names_original", "S"), ("surname_original", "S"), ("birth_date", "D"),
        ("sex", "S"), ("nationality", "S"), ("v_number_encrypted", "S"), ("document_type", "S"),
        ("document_number_encrypted", "S"), ("document_valid_until", "D"), ("created_at", "T"),
    ),
    "notification": (
        ("id", "U"), ("receipt_number", "S"), ("external_reference", "S"),
        ("employer_id", "U"), ("worker_id", "U"), ("channel", "S"), ("received_at", "T"),
        ("notice_date", "D"), ("status", "S"), ("version", "I"), ("updated_at", "T"),
        ("contract_type", "S"), ("start_date", "D"), ("end_date", "D"), ("job_title", "S"),
        ("job_description", "S"), ("hours_per_week", "N"), ("fulltime_hours_per_week", "N"),
        ("wage_amount", "N"), ("wage_period", "S"), ("wage_includes_holiday_allowance", "B"),
        ("cao", "S"), ("housing_provided", "B"), ("housing_deduction_monthly", "N"),
        ("housing_written_consent", "B"), ("housing_address", "S"), ("housing_postcode", "S"),
        ("signatory_name", "S"), ("hirer_kvk_number", "S"), ("hirer_name", "S"),
        ("termination_reason", "S"), ("next_check_date", "D"), ("verification_code", "S"),
    ),
    "notification_version": (
        ("id", "U"), ("notification_id", "U"), ("version", "I"), ("kind", "S"),
        ("channel", "S"), ("received_at", "T"), ("effective_date", "D"),
        ("declaration", "J"), ("changes", "J"), ("reason", "S"),
    ),
    "work_location": (
        ("id", "U"), ("notification_id", "U"), ("position", "I"), ("street", "S"),
        ("house_number", "S"), ("postcode", "S"), ("city", "S"),
    ),
    "flag": (
        ("id", "U"), ("fingerprint", "S"), ("rule_code", "S"), ("rule_version", "S"),
        ("subject_type", "S"), ("subject_id", "S"), ("period_key", "S"), ("employer_id", "U"),
        ("notification_id", "U"), ("person_hash", "S"), ("severity", "S"), ("status", "S"),
        ("outcome", "S"), ("resolution_note", "S"), ("assignee_id", "U"), ("claimed_at", "T"),
        ("resolved_at", "T"), ("risk_score", "I"), ("risk_breakdown", "J"),
        ("workers_affected", "I"), ("sector", "S"), ("province", "S"), ("legal_basis", "S"),
        ("message_nl", "S"), ("message_en", "S"), ("evidence", "J"), ("parameters", "J"),
        ("source", "S"), ("condition_present", "B"), ("snoozed_until", "D"),
        ("first_seen_at", "T"), ("last_seen_at", "T"), ("last_evaluated_on", "D"),
        ("cleared_at", "T"), ("reopened_count", "I"), ("updated_at", "T"),
    ),
    "payroll_record": (
        ("id", "U"), ("employer_lhn", "S"), ("employer_id", "U"), ("bsn_hash", "S"),
        ("bsn_encrypted", "S"), ("bsn_last3", "S"), ("period_start", "D"), ("period_end", "D"),
        ("hours_paid", "N"), ("gross_wage", "N"), ("includes_holiday_allowance", "B"),
        ("nationality", "S"), ("document_type", "S"), ("birth_date", "D"),
        ("source_reference", "S"), ("imported_at", "T"), ("updated_at", "T"),
    ),
}  # fmt: skip
WRITE_ORDER = tuple(TABLES)

Row = tuple[Any, ...]


def _pg_text(value: Any) -> str:
    return str(value)


def _pg_json(value: str) -> str:
    return value.replace("\\", "\\\\")


def _pg_instant(value: datetime) -> str:
    return value.isoformat()


def _pg_bool(value: bool) -> str:
    return "t" if value else "f"


def _sqlite_instant(value: datetime) -> str:
    # The exact text SQLAlchemy's SQLite DATETIME writes (naive UTC, always microseconds).
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_uuid(value: uuid.UUID) -> str:
    return value.hex


def _sqlite_bool(value: bool) -> int:
    return 1 if value else 0


def _identity(value: Any) -> Any:
    return value


PG_CONVERT: dict[str, Callable[[Any], Any]] = {
    "U": _pg_text, "S": _identity, "D": date.isoformat, "T": _pg_instant, "N": _pg_text,
    "B": _pg_bool, "I": _pg_text, "J": _pg_json,
}  # fmt: skip
SQLITE_CONVERT: dict[str, Callable[[Any], Any]] = {
    "U": _sqlite_uuid, "S": _identity, "D": date.isoformat, "T": _sqlite_instant,
    "N": _pg_text, "B": _sqlite_bool, "I": _identity, "J": _identity,
}  # fmt: skip


class Writer:
    """Rows in, database out: one COPY (PostgreSQL) or executemany (SQLite) per batch."""

    def __init__(self, db: Database) -> None:
        self.backend: Backend = db.backend
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._pg: psycopg.Connection[Any] | None = None
        self._lite: sqlite3.Connection | None = None
        if db.backend == "postgres":
            self._pg = psycopg.connect(db.driver_dsn)
        else:
            self._lite = sqlite3.connect(db.driver_dsn, isolation_level=None)
            self._lite.execute("PRAGMA journal_mode=WAL")
            self._lite.execute("PRAGMA synchronous=OFF")
            self._lite.execute("PRAGMA foreign_keys=ON")
            self._lite.execute("PRAGMA cache_size=-200000")
            self._lite.execute("BEGIN")

    def write(self, table: str, rows: Sequence[Row]) -> None:
        if not rows:
            return
        spec = TABLES[table]
        names = ", ".join(f'"{name}"' for name, _ in spec)
        if self._pg is not None:
            converters = [PG_CONVERT[kind] for _, kind in spec]
            buffer = io.StringIO()
            for row in rows:
                buffer.write(
                    "\t".join(
                        "\\N" if v is None else c(v) for c, v in zip(converters, row, strict=True)
                    )
                )
                buffer.write("\n")
            with (
                self._pg.cursor() as cur,
                cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
            ):
                copy.write(buffer.getvalue())
        else:
            assert self._lite is not None
            converters = [SQLITE_CONVERT[kind] for _, kind in spec]
            marks = ", ".join("?" for _ in spec)
            self._lite.executemany(
                f'INSERT INTO "{table}" ({names}) VALUES ({marks})',  # noqa: S608 - our table names
                (
                    tuple(None if v is None else c(v) for c, v in zip(converters, row, strict=True))
                    for row in rows
                ),
            )
        self.counts[table] += len(rows)

    def commit(self) -> None:
        if self._pg is not None:
            self._pg.commit()
        elif self._lite is not None:
            self._lite.execute("COMMIT")
            self._lite.execute("BEGIN")

    def finish(self) -> None:
        """Commit and refresh the planner's statistics (as a DBA would after a bulk load)."""
        if self._pg is not None:
            self._pg.commit()
            self._pg.autocommit = True
            self._pg.execute("VACUUM ANALYZE")
            self._pg.close()
        elif self._lite is not None:
            self._lite.execute("COMMIT")
            self._lite.execute("ANALYZE")
            self._lite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._lite.close()


# --- the world -----------------------------------------------------------------------------


@dataclass(slots=True)
class Employer:
    id: uuid.UUID
    kvk: str
    lhn: str
    sbi: str
    sector: str | None
    staffing: bool
    postcode: str


@dataclass(slots=True)
class Person:
    bsn: str
    bsn_hash: str
    bsn_encrypted: str
    given: tuple[str, str]
    surname: tuple[str, str]
    birth: date
    sex: str
    nationality: str
    document_type: str | None
    document_valid_until: date | None
    v_number: str


@dataclass(slots=True)
class World:
    """The deterministic parts every size shares: employers, persons, inspectors."""

    seed: int
    notifications: int
    cipher: PersonalDataCipher
    employers: list[Employer] = field(default_factory=list)
    inspectors: list[uuid.UUID] = field(default_factory=list)
    _persons: dict[int, Person] = field(default_factory=dict)

    @property
    def person_count(self) -> int:
        return max(1, int(self.notifications * 0.88))

    def person(self, index: int) -> Person:
        found = self._persons.get(index)
        if found is None:
            found = self._make_person(index)
            self._persons[index] = found
        return found

    def _make_person(self, index: int) -> Person:
        rng = random.Random(self.seed * 1_000_003 + index)
        bsn = bsn_for(index)
        roll = rng.random()
        age = (
            rng.randint(15, 17)
            if roll < 0.03
            else rng.randint(18, 20)
            if roll < 0.10
            else rng.randint(21, 64)
        )
        birth = AS_OF - timedelta(days=age * 365 + rng.randint(0, 364))
        doc = rng.choice(["o_document", "o_document", "sticker", "passport", None])
        valid = None
        if doc is not None:
            valid = (
                AS_OF - timedelta(days=rng.randint(1, 200))
                if rng.random() < 0.03
                else date(2027, 3, 4)
            )
        return Person(
            bsn=bsn,
            bsn_hash=self.cipher.keyed_hash(bsn),
            bsn_encrypted=self.cipher.encrypt(bsn),
            given=rng.choice(GIVEN),
            surname=rng.choice(SURNAMES),
            birth=birth,
            sex=rng.choice("FFMMX"[: 4 if rng.random() < 0.99 else 5]),
            nationality=rng.choice(NATIONALITIES),
            document_type=doc,
            document_valid_until=valid,
            v_number=f"{rng.randint(0, 9_999_999_999):010d}",
        )

    def forget_persons_below(self, index: int) -> None:
        """Persons are reused mostly near their first use: keep memory flat at 1M."""
        for key in [k for k in self._persons if k < index]:
            del self._persons[key]


def make_world(seed: int, notifications: int) -> World:
    settings = Settings(secret_key=SecretStr(SECRET_KEY))
    world = World(seed=seed, notifications=notifications, cipher=cipher_for(settings))
    rng = random.Random(seed)
    sectors = risk.load_sector_table()
    for index in range(max(20, notifications // 25)):
        job = JOBS[index % len(JOBS)]
        _, sector = sectors.weight_for(job[2])
        world.employers.append(
            Employer(
                id=uuid_from(rng),
                kvk=f"{10_000_000 + index * 37 % 89_999_999:08d}",
                lhn=lhn_for(index),
                sbi=job[2],
                sector=sector,
                staffing=job[2].startswith("78") or rng.random() < 0.05,
                postcode=postcode(rng),
            )
        )
    world.inspectors = [uuid_from(rng) for _ in range(20)]
    return world


def employer_rows(world: World, created: datetime) -> list[Row]:
    return [
        (
            e.id, e.kvk, e.lhn, f"Werkgever {i:06d} B.V.", random.Random(i).choice(STREETS),
            str(1 + i % 200), e.postcode, city_of(e.postcode), e.sbi, e.sector, e.staffing,
            created,
        )
        for i, e in enumerate(world.employers)
    ]  # fmt: skip


def inspector_rows(world: World, created: datetime) -> list[Row]:
    return [
        (uid, f"bench_inspector_{i:02d}", f"Inspector {i:02d}", "inspector", "!", 0, False, created)
        for i, uid in enumerate(world.inspectors)
    ]


def _amsterdam_instant(day: date, rng: random.Random) -> datetime:
    # 07:00-18:00 local is 05:00-17:00 UTC in summer and winter: the legal date is `day`.
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        seconds=rng.randint(6 * 3600, 16 * 3600)
    )


@dataclass(slots=True)
class Batch:
    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in TABLES})


@dataclass(slots=True)
class Notice:
    """One generated notification, as the body an employer would send and its facts."""

    body: dict[str, Any]
    person: Person
    employer: Employer
    problem: str | None


def notice_body(
    rng: random.Random, person: Person, notice_date: date, *, planted: bool = True
) -> tuple[dict[str, Any], str | None]:
    """A NotificationCreate-shaped body; with `planted`, some carry a problem to flag."""
    problem: str | None = None
    roll = rng.random() if planted else 1.0
    if roll < 0.10:
        start, problem = notice_date + timedelta(days=rng.randint(0, 1)), "LATE_NOTICE"
    elif roll < 0.14:
        start, problem = notice_date - timedelta(days=rng.randint(1, 20)), "RETROACTIVE_NOTICE"
    else:
        start = notice_date + timedelta(days=rng.randint(5, 40))
    contract = rng.choice(CONTRACTS)
    end: date | None = None
    if contract in ("fixed_term", "temporary_agency", "payroll"):
        end = start + timedelta(days=rng.randint(90, 720))
    elif contract == "on_call" and rng.random() < 0.5:
        end = start + timedelta(days=rng.randint(30, 365))
    hours: Decimal | None = rng.choice(HOURS)
    if contract == "on_call" and rng.random() < 0.5:
        hours = None
    if planted and problem is None and rng.random() < 0.012:
        hours, problem = Decimal(62), "EXCESSIVE_HOURS"
    period = rng.choice(PERIODS) if hours is not None else "hour"
    minimum = minimum_for(age_on(person.birth, start), start)
    factor = Decimal(str(round(rng.uniform(1.0, 1.35), 3)))
    if planted and problem is None and rng.random() < 0.05:
        factor, problem = Decimal("0.85"), "BELOW_MINIMUM_WAGE"
    amount = period_amount(minimum * factor, period, hours or Decimal(38))
    job, cao, _ = rng.choice(JOBS)
    first = postcode(rng)
    locations = [
        {"street": rng.choice(STREETS), "house_number": str(rng.randint(1, 300)),
         "postcode": first, "city": city_of(first)}
    ]  # fmt: skip
    if rng.random() < 0.1:
        second = postcode(rng)
        locations.append(
            {"street": rng.choice(STREETS), "house_number": str(rng.randint(1, 300)),
             "postcode": second, "city": city_of(second)}
        )  # fmt: skip
    housing: dict[str, Any] = {"provided": False}
    if rng.random() < 0.25:
        home = postcode(rng)
        deduction = Decimal(rng.randint(150, 420))
        if planted and problem is None and rng.random() < 0.1:
            deduction, problem = Decimal(900), "HOUSING_DEDUCTION_ABOVE_CAP"
        housing = {
            "provided": True,
            "address": {"street": rng.choice(STREETS), "house_number": str(rng.randint(1, 99)),
                        "postcode": home, "city": city_of(home)},
            "monthly_deduction": f"{deduction:.2f}",
            "written_consent": rng.random() < 0.9,
        }  # fmt: skip
    if (
        planted
        and problem is None
        and person.document_valid_until is not None
        and person.document_valid_until < AS_OF
    ):
        problem = "DOCUMENT_EXPIRED"
    body: dict[str, Any] = {
        "worker": {
            "given_names": person.given[0], "surname": person.surname[0],
            "given_names_original": person.given[1], "surname_original": person.surname[1],
            "birth_date": person.birth.isoformat(), "sex": person.sex,
            "nationality": person.nationality, "bsn": person.bsn,
            "v_number": person.v_number, "document_type": person.document_type,
            "document_number": f"OX{rng.randint(1_000_000, 9_999_999)}"
            if person.document_type else None,
            "document_valid_until": person.document_valid_until.isoformat()
            if person.document_valid_until else None,
        },
        "contract_type": contract,
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else None,
        "job_title": job,
        "job_description": None,
        "hours_per_week": f"{hours:.2f}" if hours is not None else None,
        "fulltime_hours_per_week": "38.00",
        "wage": {"amount": f"{amount:.2f}", "period": period, "includes_holiday_allowance": False},
        "cao": cao,
        "work_locations": locations,
        "housing": housing,
        "hirer": {"kvk_number": f"{rng.randint(10_000_000, 99_999_999)}", "name": "Inlener B.V."}
        if contract in ("temporary_agency", "payroll") else None,
        "declaration": {"signatory_name": "Jan de Vries", "truthful": True},
    }  # fmt: skip
    return body, problem


def _declaration(body: dict[str, Any]) -> str:
    data = json.loads(json.dumps(body))
    data["worker"]["bsn_masked"] = mask_bsn(data["worker"].pop("bsn"))
    data["worker"].pop("document_number", None)
    return json.dumps(data)


@lru_cache(maxsize=256)
def _risk(severity: str, sbi: str) -> tuple[int, str]:
    score, breakdown = risk.score(
        severity=severity, workers_affected=1, confirmed_violations=0, sbi_code=sbi
    )
    return score, json.dumps(breakdown)


HISTORIC_RULES = ("BORDERLINE_NOTICE", "WAGE_UNCHECKABLE", "PAST_DECLARED_END", "LATE_NOTICE")


def _flag_row(
    rng: random.Random,
    world: World,
    notification_id: uuid.UUID,
    employer: Employer,
    person: Person,
    rule_code: str,
    active: bool,
    seen: datetime,
    first_postcode: str,
) -> Row:
    info = RULES[rule_code]
    severity = str(info.severity)
    score, breakdown = _risk(severity, employer.sbi)
    outcome = note = assignee = claimed = resolved = cleared = snoozed = None
    condition = True
    if active:
        roll = rng.random()
        status = "open" if roll < 0.8 else "claimed" if roll < 0.93 else "investigating"
        if status != "open":
            assignee = rng.choice(world.inspectors)
            claimed = seen + timedelta(days=rng.randint(1, 10))
        if rng.random() < 0.02:
            snoozed = AS_OF + timedelta(days=rng.randint(1, 60))
    elif rng.random() < 0.6:
        status, condition, cleared = "cleared", False, seen + timedelta(days=rng.randint(1, 90))
    else:
        status = "resolved"
        outcome = "violation_confirmed" if rng.random() < 0.3 else "no_violation"
        note = "Gecontroleerd bij bedrijfsbezoek."
        resolved = seen + timedelta(days=rng.randint(1, 60))
    subject = str(notification_id)
    updated = max(x for x in (seen, claimed, resolved, cleared) if x is not None)
    return (
        uuid_from(rng), fingerprint(rule_code, "notification", subject, ""), rule_code,
        info.version, "notification", subject, "", employer.id, notification_id,
        person.bsn_hash, severity, status, outcome, note, assignee, claimed, resolved, score,
        breakdown, 1, employer.sector, geo.province_for_postcode(first_postcode),
        info.legal_basis, f"{info.title_nl}.", f"{info.title_en}.", "{}", "[]",
        "intake" if rng.random() < 0.7 else "sweep", condition, snoozed, seen, updated,
        AS_OF if not active else None, cleared, 0, updated,
    )  # fmt: skip


def generate_batch(
    world: World,
    start: int,
    stop: int,
    workers: dict[tuple[int, int], uuid.UUID],
    *,
    notice_on: date | None = None,
    new_persons: bool = False,
) -> Batch:
    """Notifications start..stop-1 with their workers, versions, locations, flags, payroll.

    `notice_on` fixes the notice date (a day's intake); `new_persons` makes each one a
    person not seen before (so no worker row of an earlier batch is needed).
    """
    batch = Batch()
    rows = batch.rows
    for i in range(start, stop):
        rng = random.Random(world.seed * 7_777_777 + i)
        # Most notifications are a new person; some are a person seen before (a second
        # employer, or a new contract at the same one), usually recently.
        if new_persons or (i < world.person_count and rng.random() < 0.9):
            person_index = i
        else:
            person_index = max(0, min(i, world.person_count - 1) - rng.randint(0, 5000))
        person = world.person(person_index)
        employer_index = min(int(rng.paretovariate(1.2)) - 1, len(world.employers) - 1)
        employer_index = (employer_index * 7919 + i // 50) % len(world.employers)
        employer = world.employers[employer_index]
        notice_date = notice_on or AS_OF - timedelta(days=rng.randint(0, HISTORY_DAYS))
        received = _amsterdam_instant(notice_date, rng)
        body, problem = notice_body(rng, person, notice_date)
        key = (employer_index, person_index)
        worker_id = workers.get(key)
        if worker_id is None:
            worker_id = uuid_from(rng)
            workers[key] = worker_id
            w = body["worker"]
            doc_enc = world.cipher.encrypt(w["document_number"]) if w["document_number"] else None
            rows["worker"].append(
                (
                    worker_id, employer.id, person.bsn_hash, person.bsn_encrypted,
                    person.bsn[-3:], w["given_names"], w["surname"], w["given_names_original"],
                    w["surname_original"], person.birth, person.sex, person.nationality,
                    world.cipher.encrypt(person.v_number), person.document_type, doc_enc,
                    person.document_valid_until,
                    received,
                )
            )  # fmt: skip
        nid = uuid_from(rng)
        start_date = date.fromisoformat(body["start_date"])
        end_date = date.fromisoformat(body["end_date"]) if body["end_date"] else None
        status, reason = "active", None
        roll = rng.random() if notice_on is None else 1.0
        if roll < 0.07:
            status, reason = "terminated", "Contract beëindigd"
            end_date = max(start_date, AS_OF - timedelta(days=rng.randint(0, 90)))
            if end_date > AS_OF:
                end_date = AS_OF
        elif roll < 0.10 and start_date > notice_date:
            status, reason = "withdrawn", "Toch niet in dienst"
        channel = rng.choice(("api", "api", "api", "form", "form", "bulk"))
        housing = body["housing"]
        address = housing.get("address")
        hirer = body["hirer"]
        rows["notification"].append(
            (
                nid, receipt_for(i, notice_date.year),
                f"HR-{i:09d}" if channel == "bulk" else None, employer.id, worker_id, channel,
                received, notice_date, status, 1, received, body["contract_type"], start_date,
                end_date, body["job_title"], None, body["hours_per_week"],
                body["fulltime_hours_per_week"], body["wage"]["amount"], body["wage"]["period"],
                False, body["cao"], housing["provided"], housing.get("monthly_deduction"),
                housing.get("written_consent", False),
                f"{address['street']} {address['house_number']}, {address['postcode']} "
                f"{address['city']}" if address else None,
                address["postcode"] if address else None, "Jan de Vries",
                hirer["kvk_number"] if hirer else None, hirer["name"] if hirer else None,
                reason, None, verification_code_for(i),
            )
        )  # fmt: skip
        rows["notification_version"].append(
            (
                uuid_from(rng), nid, 1, "initial", channel, received, start_date,
                _declaration(body), "{}", None,
            )
        )  # fmt: skip
        for position, loc in enumerate(body["work_locations"]):
            rows["work_location"].append(
                (uuid_from(rng), nid, position, loc["street"], loc["house_number"],
                 loc["postcode"], loc["city"])
            )  # fmt: skip
        first_postcode = body["work_locations"][0]["postcode"]
        rule = problem or rng.choice(HISTORIC_RULES)
        rows["flag"].append(
            _flag_row(
                rng,
                world,
                nid,
                employer,
                person,
                rule,
                problem is not None and status != "withdrawn",
                received,
                first_postcode,
            )
        )
        if status == "active" and start_date <= PAYROLL_PERIOD[0] and key not in _PAID:
            _PAID.add(key)
            hours = Decimal(body["hours_per_week"] or "20") * 4
            hourly = Decimal(body["wage"]["amount"])
            if body["wage"]["period"] != "hour":
                hourly = (hourly / (Decimal(body["hours_per_week"]) * 4)).quantize(CENT)
            if rng.random() < 0.05:
                hourly = (hourly * Decimal("0.8")).quantize(CENT)
            rows["payroll_record"].append(
                (
                    uuid_from(rng), employer.lhn, employer.id, person.bsn_hash,
                    person.bsn_encrypted, person.bsn[-3:], PAYROLL_PERIOD[0], PAYROLL_PERIOD[1],
                    f"{hours:.2f}", f"{hours * hourly:.2f}", False, person.nationality,
                    person.document_type, person.birth, f"PR-{i:09d}", received, received,
                )
            )  # fmt: skip
    world.forget_persons_below(start - 10_000)
    return batch


_PAID: set[tuple[int, int]] = set()


@dataclass(frozen=True, slots=True)
class GenerateResult:
    counts: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())


def generate(
    db: Database, notifications: int, *, seed: int = 2026, migrate: bool = True
) -> GenerateResult:
    """Fill a fresh database with `notifications` notifications and everything around them."""
    started = time.perf_counter()
    if migrate:
        upgrade(db.url)
    world = make_world(seed, notifications)
    created = datetime.combine(AS_OF - timedelta(days=HISTORY_DAYS + 30), datetime.min.time(), UTC)
    writer = Writer(db)
    writer.write("employer", employer_rows(world, created))
    writer.write("user_account", inspector_rows(world, created))
    workers: dict[tuple[int, int], uuid.UUID] = {}
    _PAID.clear()
    for start in range(0, notifications, CHUNK):
        batch = generate_batch(world, start, min(notifications, start + CHUNK), workers)
        for table in WRITE_ORDER:
            writer.write(table, batch.rows[table])
        writer.commit()
    writer.finish()
    return GenerateResult(counts=writer.counts, seconds=time.perf_counter() - started)


# --- files for the upload benchmarks ---------------------------------------------------------


def upload_bodies(
    count: int, *, seed: int, first_person: int, today: date
) -> Iterator[dict[str, Any]]:
    """Valid, distinct notification bodies for the API (notice today, start ahead)."""
    world = World(
        seed=seed,
        notifications=count,
        cipher=cipher_for(Settings(secret_key=SecretStr(SECRET_KEY))),
    )
    for i in range(count):
        rng = random.Random(seed * 31 + first_person + i)
        person = world._make_person(first_person + i)
        if person.document_valid_until is not None and person.document_valid_until < today:
            person.document_valid_until = date(today.year + 1, 3, 4)
        body, _ = notice_body(rng, person, today, planted=False)
        start = today + timedelta(days=rng.randint(5, 40))
        body["start_date"] = start.isoformat()
        if body["end_date"] is not None:
            body["end_date"] = (start + timedelta(days=rng.randint(30, 365))).isoformat()
        if body["contract_type"] in ("self_employed", "assignment"):
            body["contract_type"] = "fixed_term"
        yield body


def _lookup(body: dict[str, Any], path: str) -> Any:
    node: Any = body
    for part in path.split("."):
        if node is None:
            return None
        if part.isdigit():
            index = int(part)
            node = node[index] if index < len(node) else None
        else:
            node = node.get(part)
    return node


def bulk_csv(path: Path, count: int, *, seed: int, first_person: int, today: date) -> Path:
    """The employer's bulk layout (`csv_format.EMPLOYER_HEADER`), one valid notice per row."""
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\r\n")
    writer.writerow(csv_format.EMPLOYER_HEADER)
    for i, body in enumerate(
        upload_bodies(count, seed=seed, first_person=first_person, today=today)
    ):
        cells: list[str] = []
        for column in csv_format.EMPLOYER_HEADER:
            if column == "external_reference":
                cells.append(f"BULK-{first_person + i:09d}")
                continue
            value = _lookup(body, csv_format.COLUMN_PATHS[column])
            cells.append(
                ""
                if value is None
                else "ja"
                if value is True
                else "nee"
                if value is False
                else str(value)
            )
        writer.writerow(cells)
    path.write_text(lines.getvalue(), encoding="utf-8")
    return path


def payroll_csv(path: Path, rows: int, *, seed: int, notifications: int, first: int = 0) -> Path:
    """A payroll delivery for IMPORT_PERIOD: rows first..first+rows-1, each a distinct
    (employer, person) pair of the world's employers."""
    world = make_world(seed, notifications)
    header = "loonheffingennummer,bsn,period_start,period_end,hours_paid,gross_wage,reference\n"
    start, end = IMPORT_PERIOD[0].isoformat(), IMPORT_PERIOD[1].isoformat()
    employers = world.employers
    with path.open("w", encoding="utf-8") as out:
        out.write(header)
        chunk: list[str] = []
        for i in range(first, first + rows):
            lhn = employers[i % len(employers)].lhn
            bsn = bsn_for(i)
            hours = 120 + i % 60
            chunk.append(f"{lhn},{bsn},{start},{end},{hours}.00,{hours * 15}.50,IMP-{i:09d}\n")
            if len(chunk) >= 10_000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
    return path


def iter_chunks(items: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def digest_of(db: Database) -> str:
    """A digest of the deterministic content (ids, hashes, figures), to check reproducibility."""
    h = hashlib.sha256()
    query = (
        "SELECT n.id, n.receipt_number, n.wage_amount, n.start_date, w.bsn_hash "
        "FROM notification n JOIN worker w ON w.id = n.worker_id ORDER BY n.receipt_number"
    )
    if db.backend == "postgres":
        with psycopg.connect(db.driver_dsn) as conn:
            for row in conn.execute(query):
                h.update(
                    repr(
                        (str(row[0]).replace("-", ""), row[1], str(row[2]), str(row[3]), row[4])
                    ).encode()
                )
    else:
        with sqlite3.connect(db.driver_dsn) as conn:
            for row in conn.execute(query):
                h.update(
                    repr(
                        (row[0], row[1], str(Decimal(str(row[2])).quantize(CENT)), row[3], row[4])
                    ).encode()
                )
    return h.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--notifications", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--name", default=None, help="Database name (default gen_<size>).")
    args = parser.parse_args()
    db = fresh_database(args.db, args.name or f"gen_{args.notifications}")
    result = generate(db, args.notifications, seed=args.seed)
    rate = result.total_rows / result.seconds
    print(json.dumps({"url": db.url, **result.counts, "seconds": round(result.seconds, 1),
                      "rows_per_second": round(rate)}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
