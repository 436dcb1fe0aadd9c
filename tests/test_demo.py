"""The demo data set: built through the services, deterministic, never in production."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import Session, col, func, select

from meldplicht.accounts.service import authenticate_token
from meldplicht.core.config import Environment, Settings
from meldplicht.demo import EMPLOYERS, DemoRefused, eleven_test_number, load_demo
from meldplicht.employers.models import Employer
from meldplicht.employers.service import get_by_kvk
from meldplicht.notifications.models import (
    Notification,
    NotificationFinding,
    NotificationStatus,
    NotificationVersion,
    Worker,
)
from meldplicht.rules import identifiers
from tests.conftest import make_employer

SEED = 2026


def count(session: Session, model: type[Any]) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_loads_a_realistic_data_set(session: Session, settings: Settings) -> None:
    summary = load_demo(session, seed=SEED, if_empty=False, settings=settings)
    assert summary["employers"] == 8 == count(session, Employer)
    assert summary["notifications"] == 150 == count(session, Notification)
    assert summary["withdrawn"] == 1
    assert summary["terminated"] >= 5
    assert summary["changes"] >= 3
    statuses = set(session.exec(select(Notification.status)))
    assert statuses == {
        NotificationStatus.ACTIVE,
        NotificationStatus.TERMINATED,
        NotificationStatus.WITHDRAWN,
    }
    assert (
        count(session, NotificationVersion)
        == 150 + summary["changes"] + summary["terminated"] + summary["withdrawn"]
    )
    # The rules computed the findings; the planned problems show up.
    findings = summary["findings"]
    for code in (
        "LATE_NOTICE",
        "RETROACTIVE_NOTICE",
        "BELOW_MINIMUM_WAGE",
        "HOURS_ABOVE_48",
        "EXCESSIVE_HOURS",
        "DOCUMENT_EXPIRED",
        "PROTECTION_STATUS_CHECK",
        "HOUSING_DEDUCTION_ABOVE_CAP",
    ):
        assert findings.get(code, 0) >= 1, code
    assert 10 <= findings["LATE_NOTICE"] <= 25
    stored = session.exec(
        select(NotificationFinding.code).where(NotificationFinding.code == "LATE_NOTICE")
    ).all()
    assert len(stored) >= findings["LATE_NOTICE"]
    # Cyrillic and Latin names, staffing agencies with SBI 78201 and valid identifiers.
    assert session.exec(select(Worker).where(col(Worker.surname_original).is_not(None))).first()
    agencies = session.exec(select(Employer).where(col(Employer.is_staffing_agency))).all()
    assert {a.sbi_code for a in agencies} == {"78201"}
    assert len(agencies) == 2
    for employer in session.exec(select(Employer)):
        assert identifiers.is_valid_kvk(employer.kvk_number)
        assert employer.loonheffingennummer is not None
        assert identifiers.is_valid_loonheffingennummer(employer.loonheffingennummer)
    received = session.exec(select(func.max(Notification.received_at))).one()
    assert received is not None
    assert received.year <= 2026
    assert {n.channel for n in session.exec(select(Notification))} == {"api", "form", "bulk"}


def test_same_seed_same_data(session: Session, settings: Settings) -> None:
    savepoint = session.begin_nested()
    first = load_demo(session, seed=SEED, if_empty=False, settings=settings)
    first_names = sorted(session.exec(select(col(Worker.surname), col(Worker.birth_date))).all())
    savepoint.rollback()
    assert count(session, Employer) == 0
    second = load_demo(session, seed=SEED, if_empty=False, settings=settings)
    assert second == first
    assert (
        sorted(session.exec(select(col(Worker.surname), col(Worker.birth_date))).all())
        == first_names
    )


def test_if_empty_skips_when_an_employer_exists(session: Session, settings: Settings) -> None:
    make_employer(session, "11112222")
    summary = load_demo(session, seed=SEED, if_empty=True, settings=settings)
    assert "skipped" in summary
    assert count(session, Employer) == 1
    assert count(session, Notification) == 0


def test_loading_twice_is_refused_quietly(session: Session, settings: Settings) -> None:
    load_demo(session, seed=SEED, if_empty=False, settings=settings)
    assert "skipped" in load_demo(session, seed=SEED, if_empty=False, settings=settings)
    assert count(session, Notification) == 150


def test_refused_in_production(session: Session, database_url: str) -> None:
    production = Settings(
        environment=Environment.PRODUCTION,
        database_url=database_url,
        secret_key=SecretStr("a-long-random-production-secret-0123456789"),
        _env_file=None,
    )
    with pytest.raises(DemoRefused):
        load_demo(session, seed=SEED, if_empty=True, settings=production)
    assert count(session, Employer) == 0


def test_demo_keys_authenticate(session: Session, settings: Settings) -> None:
    summary = load_demo(session, seed=SEED, if_empty=False, settings=settings)
    greenhouse = summary["api_keys"][0]
    assert greenhouse["token"] == "mpk_demo00000001_DemoKeyForTheGreenhouseDoNotUseInProduction"
    for demo in EMPLOYERS:
        principal = authenticate_token(session, demo.token)
        employer = get_by_kvk(session, demo.kvk)
        assert employer is not None
        assert principal.employer_id == employer.id
        assert principal.role == "employer"


def test_eleven_test_numbers_are_valid_bsns() -> None:
    import random

    rng = random.Random(1)
    assert all(identifiers.is_valid_bsn(eleven_test_number(rng)) for _ in range(500))
