"""A realistic synthetic data set, built through the real services, for newcomers to click through.

Every employer gets an API key with a fixed, documented token (development and test only; the
demo refuses to load in production):

    mpk_demo00000001_DemoKeyForTheGreenhouseDoNotUseInProduction   Kwekerij Westland Tomaten
    mpk_demo00000002_DemoKeyForFlexWerkDoNotUseInProduction        FlexWerk Uitzendbureau
    mpk_demo00000003_DemoKeyForOostWestDoNotUseInProduction        Oost-West Personeelsdiensten
    mpk_demo00000004_DemoKeyForTheHotelDoNotUseInProduction        Hotel De Gouden Leeuw
    mpk_demo00000005_DemoKeyForGlansDoNotUseInProduction           Schoonmaakbedrijf Glans
    mpk_demo00000006_DemoKeyForTheDistributionCentreDoNotUseInProduction  Distributiecentrum
    mpk_demo00000007_DemoKeyForTheMeatProcessorDoNotUseInProduction Vleesverwerking Brabant
    mpk_demo00000008_DemoKeyForTheFarmDoNotUseInProduction          Akkerbouwbedrijf Van der Veen
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from meldplicht.accounts.models import ApiKey, Role
from meldplicht.accounts.service import create_user
from meldplicht.core.clock import LEGAL_TZ
from meldplicht.core.config import Environment, Settings, get_settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.security import KEY_PREFIX, Principal, hash_secret
from meldplicht.employers.models import Employer
from meldplicht.employers.schemas import EmployerCreate
from meldplicht.employers.service import create_employer, get_by_kvk
from meldplicht.notifications import changes, intake
from meldplicht.notifications.context import Context
from meldplicht.notifications.models import Channel, Notification, NotificationFinding
from meldplicht.notifications.schemas import (
    NotificationChange,
    NotificationCreate,
    TerminationIn,
    WageIn,
    WithdrawalIn,
)
from meldplicht.rules import wages
from meldplicht.rules.facts import WagePeriod
from meldplicht.rules.params import get_parameters

NOTIFICATION_COUNT = 150
# Receipt instants lie between these days (Europe/Amsterdam), so every one is in the past.
FIRST_RECEIPT = date(2024, 1, 8)
LAST_RECEIPT = date(2026, 10, 30)
CENT = Decimal("0.01")


class DemoRefused(RuntimeError):
    """The demo data set must never be loaded into a production database."""


@dataclass(frozen=True, slots=True)
class Site:
    street: str
    house_number: str
    postcode: str
    city: str

    def as_dict(self) -> dict[str, str]:
        return {
            "street": self.street,
            "house_number": self.house_number,
            "postcode": self.postcode,
            "city": self.city,
        }


@dataclass(frozen=True, slots=True)
class DemoEmployer:
    key_prefix: str
    key_secret: str
    kvk: str
    name: str
    sbi_code: str
    sector: str
    staffing_agency: bool
    sites: tuple[Site, ...]
    jobs: tuple[str, ...]
    cao: str
    contact_name: str
    provides_housing: bool
    weight: int  # share of the notifications

    @property
    def token(self) -> str:
        return f"{KEY_PREFIX}_{self.key_prefix}_{self.key_secret}"


EMPLOYERS: tuple[DemoEmployer, ...] = (
    DemoEmployer(
        "demo00000001",
        "DemoKeyForTheGreenhouseDoNotUseInProduction",
        "68741001",
        "Kwekerij Westland Tomaten B.V.",
        "0113",
        "Glastuinbouw",
        False,
        (
            Site("Middel Broekweg", "29", "2675 KB", "Honselersdijk"),
            Site("Tuinbouwweg", "12", "2671 AB", "Naaldwijk"),
        ),
        ("Productiemedewerker glastuinbouw", "Oogstmedewerker tomaten", "Inpakker"),
        "CAO Glastuinbouw",
        "Jan de Vries",
        True,
        30,
    ),
    DemoEmployer(
        "demo00000002",
        "DemoKeyForFlexWerkDoNotUseInProduction",
        "68741002",
        "FlexWerk Uitzendbureau B.V.",
        "78201",
        "Uitzendbureaus",
        True,
        (Site("Weena", "505", "3013 AL", "Rotterdam"),),
        ("Orderpicker", "Productiemedewerker", "Heftruckchauffeur"),
        "ABU-cao voor uitzendkrachten",
        "Priya Ramdin",
        True,
        25,
    ),
    DemoEmployer(
        "demo00000003",
        "DemoKeyForOostWestDoNotUseInProduction",
        "68741003",
        "Oost-West Personeelsdiensten B.V.",
        "78201",
        "Uitzendbureaus",
        True,
        (Site("Nijmeegseweg", "40", "5916 PT", "Venlo"),),
        ("Orderpicker", "Productiemedewerker vleesverwerking", "Seizoenmedewerker"),
        "NBBU-cao voor uitzendkrachten",
        "Marek Nowak",
        True,
        20,
    ),
    DemoEmployer(
        "demo00000004",
        "DemoKeyForTheHotelDoNotUseInProduction",
        "68741004",
        "Hotel De Gouden Leeuw B.V.",
        "5510",
        "Hotels",
        False,
        (Site("Damrak", "88", "1012 LP", "Amsterdam"),),
        ("Medewerker housekeeping", "Keukenhulp", "Afwasser"),
        "Cao Horeca",
        "Sanne Bakker",
        False,
        12,
    ),
    DemoEmployer(
        "demo00000005",
        "DemoKeyForGlansDoNotUseInProduction",
        "68741005",
        "Schoonmaakbedrijf Glans B.V.",
        "8121",
        "Schoonmaak",
        False,
        (
            Site("Kanaalweg", "14", "3526 KL", "Utrecht"),
            Site("Stationsplein", "1", "3511 ED", "Utrecht"),
        ),
        ("Schoonmaker", "Glazenwasser", "Objectleider schoonmaak"),
        "Cao Schoonmaak- en glazenwassersbedrijf",
        "Karim Benali",
        False,
        15,
    ),
    DemoEmployer(
        "demo00000006",
        "DemoKeyForTheDistributionCentreDoNotUseInProduction",
        "68741006",
        "Distributiecentrum Tilburg B.V.",
        "5210",
        "Opslag en distributie",
        False,
        (Site("Kraaivenstraat", "21", "5048 AB", "Tilburg"),),
        ("Orderpicker", "Reachtruckchauffeur", "Logistiek medewerker"),
        "Cao Transport en Logistiek",
        "Eva Jansen",
        False,
        18,
    ),
    DemoEmployer(
        "demo00000007",
        "DemoKeyForTheMeatProcessorDoNotUseInProduction",
        "68741007",
        "Vleesverwerking Brabant B.V.",
        "1011",
        "Vleesverwerking",
        False,
        (Site("Industrieweg", "7", "5281 RW", "Boxtel"),),
        ("Uitbener", "Productiemedewerker vleesverwerking", "Inpakker"),
        "Cao Vleessector",
        "Henk van den Berg",
        True,
        18,
    ),
    DemoEmployer(
        "demo00000008",
        "DemoKeyForTheFarmDoNotUseInProduction",
        "68741008",
        "Akkerbouwbedrijf Van der Veen",
        "0113",
        "Akkerbouw",
        False,
        (Site("Espelerweg", "3", "8307 PA", "Ens"),),
        ("Seizoenmedewerker akkerbouw", "Oogstmedewerker uien", "Sorteerder aardappelen"),
        "Cao Open Teelten",
        "Gerrit van der Veen",
        True,
        12,
    ),
)

# Hirers of the agencies' workers: two demo employers and two companies outside the demo.
HIRERS: tuple[tuple[str, str], ...] = (
    ("68741001", "Kwekerij Westland Tomaten B.V."),
    ("68741006", "Distributiecentrum Tilburg B.V."),
    ("34092211", "Bloemenveiling Noord B.V."),
    ("17220981", "Koelhuis Venlo B.V."),
)
HOUSING: tuple[Site, ...] = (
    Site("Dorpsstraat", "5a", "2671 CD", "Naaldwijk"),
    Site("Zuidweg", "118", "3084 KP", "Rotterdam"),
    Site("Parkstraat", "22", "5911 ER", "Venlo"),
    Site("Kerkstraat", "9", "5281 BK", "Boxtel"),
    Site("Vaartweg", "61", "8307 RE", "Ens"),
)

# (Latin as in the passport, Cyrillic): official Ukrainian transliteration (KMU 2010).
FEMALE_NAMES = (
    ("Olena", "Олена"),
    ("Iryna", "Ірина"),
    ("Oksana", "Оксана"),
    ("Tetiana", "Тетяна"),
    ("Nataliia", "Наталія"),
    ("Yuliia", "Юлія"),
    ("Kateryna", "Катерина"),
    ("Anastasiia", "Анастасія"),
    ("Viktoriia", "Вікторія"),
    ("Svitlana", "Світлана"),
    ("Halyna", "Галина"),
    ("Liudmyla", "Людмила"),
    ("Mariia", "Марія"),
    ("Daryna", "Дарина"),
    ("Sofiia", "Софія"),
    ("Khrystyna", "Христина"),
)
MALE_NAMES = (
    ("Oleksandr", "Олександр"),
    ("Andrii", "Андрій"),
    ("Serhii", "Сергій"),
    ("Dmytro", "Дмитро"),
    ("Mykola", "Микола"),
    ("Volodymyr", "Володимир"),
    ("Yurii", "Юрій"),
    ("Ivan", "Іван"),
    ("Vasyl", "Василь"),
    ("Bohdan", "Богдан"),
    ("Taras", "Тарас"),
    ("Maksym", "Максим"),
    ("Artem", "Артем"),
    ("Oleh", "Олег"),
    ("Petro", "Петро"),
    ("Yevhen", "Євген"),
)
SURNAMES = (
    ("Kovalenko", "Коваленко"),
    ("Shevchenko", "Шевченко"),
    ("Bondarenko", "Бондаренко"),
    ("Tkachenko", "Ткаченко"),
    ("Kravchenko", "Кравченко"),
    ("Melnyk", "Мельник"),
    ("Boiko", "Бойко"),
    ("Tkachuk", "Ткачук"),
    ("Savchuk", "Савчук"),
    ("Polishchuk", "Поліщук"),
    ("Marchenko", "Марченко"),
    ("Lysenko", "Лисенко"),
    ("Rudenko", "Руденко"),
    ("Moroz", "Мороз"),
    ("Pavlenko", "Павленко"),
    ("Kharchenko", "Харченко"),
    ("Hrytsenko", "Гриценко"),
    ("Zinchenko", "Зінченко"),
    ("Oliinyk", "Олійник"),
    ("Kovalchuk", "Ковальчук"),
)
# Adjectival surnames differ by sex: (male Latin, male Cyrillic, female Latin, female Cyrillic).
GENDERED_SURNAMES = (
    ("Kovalskyi", "Ковальський", "Kovalska", "Ковальська"),
    ("Levytskyi", "Левицький", "Levytska", "Левицька"),
    ("Vyshnevskyi", "Вишневський", "Vyshnevska", "Вишневська"),
)
# Third-country nationals who fled Ukraine (students, workers): the rules ask for a check.
THIRD_COUNTRY = (
    ("Chinedu", "Okafor", "NGA", "M"),
    ("Youssef", "El Amrani", "MAR", "M"),
    ("Aisha", "Bello", "NGA", "F"),
    ("Arjun", "Sharma", "IND", "M"),
    ("Elvin", "Mammadov", "AZE", "M"),
)

PROBLEMS_PLAN: dict[str, int] = {
    # About 10% late, a few retroactive, ~8% below the minimum for the age, and the rest
    # of the brief; everything else is an ordinary, correct notification.
    "late": 15,
    "retroactive": 3,
    "below_minimum": 12,
    "above_48": 4,
    "above_60": 1,
    "aged_16_17": 2,
    "youth_18_20": 10,
    "document_expired": 4,
    "third_country": 4,
    "housing_above_cap": 5,
    "month_wage": 8,
}


@dataclass
class Person:
    given_names: str
    surname: str
    given_names_original: str | None
    surname_original: str | None
    sex: str
    nationality: str
    bsn: str
    birth_date: date
    v_number: str
    document_number: str


@dataclass
class Created:
    notification: Notification
    employer: DemoEmployer
    received_at: datetime
    problem: str | None
    extra: dict[str, Any] = field(default_factory=dict)


def eleven_test_number(rng: random.Random) -> str:
    """Nine digits passing the 11-test (weights 9..2 and -1): a BSN or the RSIN part of a
    loonheffingennummer, drawn from `rng` so the demo is the same for the same seed."""
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _birth_date_for_age(rng: random.Random, age: int, on: date) -> date:
    # A birthday at least a month away from `on`, so the age is the same on nearby days.
    while True:
        birth = date(on.year - age - 1, 1, 1) + timedelta(days=rng.randint(0, 729))
        if (birth.month, birth.day) == (2, 29):
            continue
        if _age(birth, on) == age and abs((birth.replace(year=on.year) - on).days) >= 31:
            return birth


def _hourly_minimum(age: int, on: date) -> Decimal:
    table: dict[str, Decimal] = get_parameters().at("wml_hourly", on).value
    return Decimal(table[wages.age_key(max(age, wages.YOUTH_TABLE_MIN_AGE))])


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _receipt_instant(rng: random.Random, day: date) -> datetime:
    local = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59)))
    return local.replace(tzinfo=LEGAL_TZ).astimezone(UTC)


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class _Builder:
    def __init__(self, session: Session, seed: int, settings: Settings) -> None:
        self.session = session
        self.rng = random.Random(seed)
        self.settings = settings
        self.cipher = cipher_for(settings)
        self.employer_ids: dict[str, uuid.UUID] = {}
        self.used_bsns: set[str] = set()
        self.people: list[Person] = []
        self.created: list[Created] = []

    # --- employers and keys -----------------------------------------------------------

    def employers(self) -> None:
        for demo in EMPLOYERS:
            site = demo.sites[0]
            employer = create_employer(
                self.session,
                EmployerCreate(
                    kvk_number=demo.kvk,
                    name=demo.name,
                    loonheffingennummer=eleven_test_number(self.rng) + "L01",
                    street=site.street,
                    house_number=site.house_number,
                    postcode=site.postcode,
                    city=site.city,
                    sbi_code=demo.sbi_code,
                    sector=demo.sector,
                    is_staffing_agency=demo.staffing_agency,
                    contact_name=demo.contact_name,
                    contact_email=f"hr@{demo.key_prefix}.demo.invalid",
                ),
            )
            self.employer_ids[demo.kvk] = employer.id
            # A fixed token (documented above) so a newcomer can call the API at once; it is
            # stored like any key, as the hash of its secret part.
            self.session.add(
                ApiKey(
                    prefix=demo.key_prefix,
                    secret_hash=hash_secret(demo.key_secret),
                    name=f"Demo key ({demo.name})",
                    role=Role.EMPLOYER,
                    employer_id=employer.id,
                )
            )
        self.session.flush()

    def ctx(self, demo: DemoEmployer, channel: Channel, at: datetime) -> Context:
        actor = Principal(
            role=Role.EMPLOYER,
            actor_id=f"key:{demo.key_prefix}",
            employer_id=self.employer_ids[demo.kvk],
            display_name=f"Demo key ({demo.name})",
        )
        return Context(
            actor=actor,
            cipher=self.cipher,
            channel=channel,
            received_at=at,
        )

    # --- people -------------------------------------------------------------------------

    def bsn(self) -> str:
        while True:
            candidate = eleven_test_number(self.rng)
            if candidate not in self.used_bsns:
                self.used_bsns.add(candidate)
                return candidate

    def person(self, age: int, on: date, third_country: bool) -> Person:
        rng = self.rng
        birth = _birth_date_for_age(rng, age, on)
        if third_country:
            given, surname, nationality, sex = rng.choice(THIRD_COUNTRY)
            given_orig = surname_orig = None
        else:
            nationality = "UKR"
            sex = rng.choice("FM")
            given, given_orig = rng.choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
            if rng.random() < 0.15:
                m_lat, m_cyr, f_lat, f_cyr = rng.choice(GENDERED_SURNAMES)
                surname, surname_orig = (f_lat, f_cyr) if sex == "F" else (m_lat, m_cyr)
            else:
                surname, surname_orig = rng.choice(SURNAMES)
            # Not every older system kept the Cyrillic spelling.
            if rng.random() < 0.25:
                given_orig = surname_orig = None
        person = Person(
            given_names=given,
            surname=surname,
            given_names_original=given_orig,
            surname_original=surname_orig,
            sex=sex,
            nationality=nationality,
            bsn=self.bsn(),
            birth_date=birth,
            v_number=f"{rng.randint(10**9, 10**10 - 1)}",
            document_number=f"OX{rng.randint(1000000, 9999999)}",
        )
        self.people.append(person)
        return person

    # --- notifications --------------------------------------------------------------------

    def plan(self) -> list[str | None]:
        slots: list[str | None] = []
        for problem, count in PROBLEMS_PLAN.items():
            slots.extend([problem] * count)
        slots.extend([None] * (NOTIFICATION_COUNT - len(slots)))
        self.rng.shuffle(slots)
        return slots

    def notifications(self) -> None:
        weights = [d.weight for d in EMPLOYERS]
        span = (LAST_RECEIPT - FIRST_RECEIPT).days - 30
        for index, problem in enumerate(self.plan()):
            demo = self.rng.choices(EMPLOYERS, weights=weights)[0]
            receipt_day = _weekday_on_or_after(
                FIRST_RECEIPT + timedelta(days=self.rng.randint(0, span))
            )
            if problem == "late":
                # One calendar day before the start can never hold two working days.
                start = receipt_day + timedelta(days=1)
            elif problem == "retroactive":
                start = receipt_day - timedelta(days=self.rng.randint(3, 12))
            else:
                start = _weekday_on_or_after(receipt_day + timedelta(days=self.rng.randint(5, 21)))
            self.one(index, demo, problem, receipt_day, start)

    def one(
        self,
        index: int,
        demo: DemoEmployer,
        problem: str | None,
        receipt_day: date,
        start: date,
    ) -> None:
        rng = self.rng
        person: Person | None = None
        if problem is None and self.people and rng.random() < 0.04:
            # The same person at a second employer: a later cross-employer sweep sees them.
            person = rng.choice(self.people)
            if _age(person.birth_date, start) < 21:
                person = None
        if person is None:
            if problem == "aged_16_17":
                age = 16 + index % 2
            elif problem == "youth_18_20" or (problem == "below_minimum" and index % 3 == 0):
                age = rng.choice((18, 19, 20))
            else:
                age = rng.randint(21, 58)
            person = self.person(age, start, third_country=problem == "third_country")
        age = _age(person.birth_date, start)

        hours = Decimal(rng.choice((24, 28, 32, 36, 38, 38, 40, 40)))
        if problem == "above_48":
            hours = Decimal(rng.choice((50, 52, 54, 56)))
        elif problem == "above_60":
            hours = Decimal(62)
        elif problem == "aged_16_17":
            hours = Decimal(20)

        minimum = _hourly_minimum(age, start)
        hourly = _cents(minimum + Decimal(rng.randint(5, 250)) / 100)
        if problem == "below_minimum":
            hourly = _cents(minimum - Decimal(rng.randint(20, 150)) / 100)
        wage: dict[str, Any] = {"amount": str(hourly), "period": "hour"}
        if problem == "month_wage":
            # Month wage = hourly x hours x 13/3 (DECISIONS.md §3), rounded up to whole euros
            # so that rounding never pushes it below the minimum.
            monthly = (hourly * hours * 13 / 3).quantize(Decimal(1), ROUND_CEILING)
            wage = {"amount": str(monthly), "period": "month"}
        elif rng.random() < 0.1:
            wage = {
                "amount": str(_cents(hourly * Decimal("1.08"))),
                "period": "hour",
                "includes_holiday_allowance": True,
            }

        # Protection documents run to 4 March; extensions moved that date a year at a time.
        valid_until = date(2027, 3, 4) if rng.random() < 0.7 else date(2026, 3, 4)
        if valid_until < start:
            valid_until = date(2027, 3, 4)
        if problem == "document_expired":
            this_year = date(start.year, 3, 4)
            valid_until = this_year if this_year < start else date(start.year - 1, 3, 4)

        contract = rng.choice(("fixed_term", "fixed_term", "fixed_term", "open_ended", "on_call"))
        hirer = None
        if demo.staffing_agency:
            contract = "temporary_agency" if rng.random() < 0.85 else "payroll"
            kvk, name = rng.choice(HIRERS)
            hirer = {"kvk_number": kvk, "name": name}
        end = None
        if contract != "open_ended":
            end = start + timedelta(days=rng.choice((90, 181, 182, 273, 364)))

        housing: dict[str, Any] = {"provided": False}
        if (demo.provides_housing and rng.random() < 0.5) or problem == "housing_above_cap":
            # The cap: 25% of the minimum wage due for the month (hours x minimum x 13/3).
            month_minimum = hours * minimum * 13 / 3
            share = Decimal("0.32") if problem == "housing_above_cap" else Decimal("0.18")
            housing = {
                "provided": True,
                "address": rng.choice(HOUSING).as_dict(),
                "monthly_deduction": str(_cents(month_minimum * share)),
                "written_consent": True,
                # Mostly certified housing; a few uncertified ones plant the conditions
                # finding (derived from the name, so the random sequence stays the same).
                "certified": len(person.surname) % 5 != 0,
            }

        sites = [demo.sites[0].as_dict()]
        if len(demo.sites) > 1 and rng.random() < 0.3:
            sites.append(demo.sites[1].as_dict())
        body: dict[str, Any] = {
            "worker": {
                "given_names": person.given_names,
                "surname": person.surname,
                "given_names_original": person.given_names_original,
                "surname_original": person.surname_original,
                "birth_date": person.birth_date.isoformat(),
                "sex": person.sex,
                "nationality": person.nationality,
                "bsn": person.bsn,
                "v_number": person.v_number,
                "document_type": "o_document" if rng.random() < 0.6 else "sticker",
                "document_number": person.document_number,
                "document_valid_until": valid_until.isoformat(),
            },
            "contract_type": contract,
            "start_date": start.isoformat(),
            "end_date": end.isoformat() if end else None,
            "job_title": rng.choice(demo.jobs),
            "hours_per_week": str(hours),
            "fulltime_hours_per_week": "38" if demo.sector != "Hotels" else "40",
            "wage": wage,
            "cao": demo.cao,
            "work_locations": sites,
            "housing": housing,
            "hirer": hirer,
            "declaration": {"signatory_name": demo.contact_name, "truthful": True},
        }
        payload = NotificationCreate.model_validate(body)
        received_at = _receipt_instant(rng, receipt_day)
        channel = rng.choices((Channel.API, Channel.FORM, Channel.BULK), weights=(5, 3, 2))[0]
        notification, _ = intake.create(
            self.session,
            self.employer_ids[demo.kvk],
            payload,
            self.ctx(demo, channel, received_at),
            external_reference=f"DEMO-{index + 1:04d}",
        )
        self.created.append(
            Created(notification, demo, received_at, problem, {"hourly": hourly, "age": age})
        )

    # --- later events -----------------------------------------------------------------

    def later_events(self) -> dict[str, int]:
        rng = self.rng
        last = datetime.combine(LAST_RECEIPT, time(17, 0), tzinfo=LEGAL_TZ).astimezone(UTC)
        counts = {"changes": 0, "terminated": 0, "withdrawn": 0}
        order = list(self.created)
        rng.shuffle(order)

        # Two employers correct a wage below the minimum after seeing the finding.
        for item in [c for c in order if c.problem == "below_minimum"][:2]:
            n = item.notification
            at = item.received_at + timedelta(days=rng.randint(2, 9), hours=1)
            minimum = _hourly_minimum(int(item.extra["age"]), n.start_date)
            changes.change(
                self.session,
                n.employer_id,
                n.id,
                NotificationChange(
                    effective_date=n.start_date,
                    wage=WageIn(amount=_cents(minimum + Decimal("0.25")), period=WagePeriod.HOUR),
                    reason="Loon verhoogd naar het wettelijk minimumloon na de melding.",
                ),
                self.ctx(item.employer, Channel.API, min(at, last)),
            )
            counts["changes"] += 1

        plain = [c for c in order if c.problem is None]
        # More hours from a later date, and a longer contract: ordinary change notices.
        for item in plain[:4]:
            n = item.notification
            at = item.received_at + timedelta(days=rng.randint(20, 60))
            if at > last:
                continue
            effective = max(n.start_date, (at + timedelta(days=7)).astimezone(LEGAL_TZ).date())
            change = (
                NotificationChange(
                    effective_date=effective,
                    hours_per_week=Decimal(40),
                    reason="Meer uren op verzoek van de werknemer.",
                )
                if counts["changes"] % 2
                else NotificationChange(
                    effective_date=effective,
                    end_date=(n.end_date or n.start_date) + timedelta(days=182),
                    reason="Contract verlengd.",
                )
            )
            changes.change(
                self.session, n.employer_id, n.id, change, self.ctx(item.employer, Channel.FORM, at)
            )
            counts["changes"] += 1

        # One notice withdrawn before the work started (the worker found other work).
        for item in plain[4:]:
            n = item.notification
            if (n.start_date - n.notice_date).days >= 5:
                changes.withdraw(
                    self.session,
                    n.employer_id,
                    n.id,
                    WithdrawalIn(reason="De werknemer is niet begonnen: elders aan het werk."),
                    self.ctx(item.employer, Channel.API, item.received_at + timedelta(days=1)),
                )
                counts["withdrawn"] += 1
                plain.remove(item)
                break

        # Some employments ended early (end date after the start, notified a few days later).
        for item in plain[5:20]:
            n = item.notification
            end = n.start_date + timedelta(days=rng.randint(20, 120))
            at = datetime.combine(
                end + timedelta(days=rng.randint(1, 5)), time(10, 30), tzinfo=LEGAL_TZ
            ).astimezone(UTC)
            if at > last or (n.end_date is not None and end >= n.end_date):
                continue
            changes.terminate(
                self.session,
                n.employer_id,
                n.id,
                TerminationIn(
                    end_date=end,
                    reason=rng.choice(
                        (
                            "Werknemer heeft zelf opgezegd.",
                            "Einde seizoen.",
                            "Werknemer terug naar Oekraïne.",
                            "Ontslag in de proeftijd.",
                        )
                    ),
                ),
                self.ctx(item.employer, Channel.FORM, at),
            )
            counts["terminated"] += 1
            if counts["terminated"] >= 10:
                break
        return counts


def _findings_by_code(session: Session, employer_ids: list[uuid.UUID]) -> dict[str, int]:
    """Findings of each notification's current version, by code."""
    rows = session.exec(
        select(NotificationFinding.code, func.count())
        .join(Notification, col(Notification.id) == col(NotificationFinding.notification_id))
        .where(
            col(Notification.employer_id).in_(employer_ids),
            col(NotificationFinding.version) == col(Notification.version),
        )
        .group_by(col(NotificationFinding.code))
    )
    return dict(sorted((code, int(count)) for code, count in rows))


def load_demo(
    session: Session, *, seed: int, if_empty: bool, settings: Settings | None = None
) -> dict[str, Any]:
    """Create the demo employers, keys and notifications in the caller's transaction.

    Raises DemoRefused in production. With `if_empty`, does nothing when any employer exists.
    """
    settings = settings or get_settings()
    if settings.environment is Environment.PRODUCTION:
        raise DemoRefused(
            "The demo data set (synthetic people, API keys with published tokens) is never "
            "loaded in production."
        )
    if if_empty:
        existing = session.exec(select(func.count()).select_from(Employer)).one()
        if existing:
            return {"skipped": f"the database already holds {existing} employer(s)"}
    if get_by_kvk(session, EMPLOYERS[0].kvk) is not None:
        # Loading twice would collide on the KvK numbers and the fixed key prefixes.
        return {"skipped": "the demo data set is already loaded"}
    builder = _Builder(session, seed, settings)
    builder.employers()
    builder.notifications()
    events = builder.later_events()
    staff = _demo_staff(session, builder.employer_ids[EMPLOYERS[0].kvk])
    session.flush()
    from meldplicht.payroll.demo import add_demo_payroll

    payroll = add_demo_payroll(session, seed, settings=settings)
    session.flush()
    problems = Counter(c.problem for c in builder.created if c.problem)
    return {
        "seed": seed,
        "employers": len(EMPLOYERS),
        "notifications": len(builder.created),
        "workers": len(builder.people),
        **events,
        "planned_problems": dict(sorted(problems.items())),
        "findings": _findings_by_code(session, list(builder.employer_ids.values())),
        "api_keys": [{"employer": d.name, "kvk": d.kvk, "token": d.token} for d in EMPLOYERS],
        "staff": staff,
        "payroll": payroll,
    }


@dataclass(frozen=True, slots=True)
class DemoStaff:
    username: str
    display_name: str
    role: Role
    key_prefix: str
    key_secret: str

    @property
    def token(self) -> str:
        return f"mpk_{self.key_prefix}_{self.key_secret}"


# People who sign in to the pages (password = DEMO_PASSWORD) and their API keys, development
# only, published here so the README's tour works without set-up.
DEMO_PASSWORD = "demo-wachtwoord-2026"  # noqa: S105 - a published development-only password
STAFF = (
    DemoStaff(
        "inspecteur",
        "Inspecteur Anna de Boer",
        Role.INSPECTOR,
        "demo00000101",
        "DemoKeyForTheInspectorDoNotUseInProduction",
    ),
    DemoStaff(
        "supervisor",
        "Teamleider Pieter Visser",
        Role.SUPERVISOR,
        "demo00000102",
        "DemoKeyForTheSupervisorDoNotUseInProduction",
    ),
    DemoStaff(
        "datapartner",
        "Loonaangifteketen (demo)",
        Role.DATA_PARTNER,
        "demo00000103",
        "DemoKeyForTheDataPartnerDoNotUseInProduction",
    ),
    DemoStaff(
        "werkgever",
        "Jan de Vries (Kwekerij Westland Tomaten)",
        Role.EMPLOYER,
        "demo00000104",
        "DemoKeyForTheEmployerUserDoNotUseInProduction",
    ),
)


def _demo_staff(session: Session, first_employer_id: uuid.UUID) -> list[dict[str, str]]:
    out = []
    for person in STAFF:
        employer_id = first_employer_id if person.role is Role.EMPLOYER else None
        user = create_user(
            session,
            username=person.username,
            display_name=person.display_name,
            role=person.role,
            password=DEMO_PASSWORD,
            employer_id=employer_id,
        )
        session.add(
            ApiKey(
                prefix=person.key_prefix,
                secret_hash=hash_secret(person.key_secret),
                name=f"Demo key ({person.display_name})",
                role=person.role,
                employer_id=employer_id,
                user_id=user.id,
            )
        )
        out.append(
            {
                "username": person.username,
                "password": DEMO_PASSWORD,
                "role": person.role,
                "token": person.token,
            }
        )
    return out
