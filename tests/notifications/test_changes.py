"""Complete change notices over the API, and a termination that takes effect on its date."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from meldplicht.core.config import Settings
from meldplicht.flags.models import Flag
from meldplicht.notifications import changes, intake
from meldplicht.notifications.models import Notification, NotificationStatus
from meldplicht.notifications.schemas import NotificationCreate, TerminationIn
from meldplicht.sweeps.sweep import SweepMode, run_sweep
from tests.conftest import EmployerWithKey
from tests.factories import day, notification_body
from tests.sweeps.conftest import (  # noqa: F401 - fixtures used by the sweep test
    SweepDb,
    add_employer,
    at,
    body_for,
    context,
    notify,
    sweep_db,
    sweep_template,
)

URL = "/api/v1/notifications"
NEW_PLACE = {"street": "Havenweg", "house_number": "3", "postcode": "3011 AA", "city": "Rotterdam"}


def created(client: TestClient, who: EmployerWithKey, **overrides: object) -> str:
    response = client.post(URL, json=notification_body(**overrides), headers=who.headers)
    assert response.status_code == 201, response.text
    nid: str = response.json()["id"]
    return nid


class TestEveryFieldThatCanChange:
    def test_work_location_housing_and_hirer(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        nid = created(client, employer)
        response = client.post(
            f"{URL}/{nid}/changes",
            headers=employer.headers,
            json={
                "effective_date": day(5),
                "work_locations": [NEW_PLACE],
                "housing": {
                    "provided": True,
                    "address": {
                        "street": "Dorpsstraat",
                        "house_number": "5a",
                        "postcode": "2671 CD",
                        "city": "Naaldwijk",
                    },
                    "monthly_deduction": "300.00",
                    "written_consent": True,
                    "certified": True,
                },
                "hirer": {"kvk_number": "87654321", "name": "Tuinderij Oost B.V."},
                "reason": "Ander werkadres en huisvesting",
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["work_locations"] == [NEW_PLACE]
        assert body["housing"]["address"] == "Dorpsstraat 5a, 2671 CD Naaldwijk"
        assert body["hirer"] == {"kvk_number": "87654321", "name": "Tuinderij Oost B.V."}
        detail = client.get(f"{URL}/{nid}", headers=employer.headers).json()
        changed = detail["history"][1]["changes"]
        assert set(changed) == {"work_locations", "housing", "hirer"}
        assert changed["work_locations"]["to"] == [NEW_PLACE]
        # The earlier version still says where the work was.
        assert detail["history"][0]["declaration"]["work_locations"][0]["city"] == "Naaldwijk"

    def test_agency_work_cannot_drop_its_hirer(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        nid = created(
            client,
            employer,
            contract_type="temporary_agency",
            hirer={"kvk_number": "87654321", "name": "Tuinderij Oost B.V."},
        )
        response = client.post(
            f"{URL}/{nid}/changes",
            headers=employer.headers,
            json={"effective_date": day(5), "hirer": None},
        )
        assert response.status_code == 422
        assert [e["code"] for e in response.json()["errors"]] == ["hirer_required"]


class TestTerminationWithAFutureEndDate:
    def test_stays_active_and_open_to_changes_until_the_end_date(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        nid = created(client, employer)
        ended = client.post(
            f"{URL}/{nid}/termination",
            headers=employer.headers,
            json={"end_date": day(30), "reason": "Seizoen voorbij"},
        )
        assert ended.status_code == 200, ended.text
        assert ended.json()["status"] == "active"
        assert ended.json()["termination_pending"] is True
        assert ended.json()["end_date"] == day(30)
        changed = client.post(
            f"{URL}/{nid}/changes",
            headers=employer.headers,
            json={"effective_date": day(10), "hours_per_week": "30"},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["termination_pending"] is True

    def test_an_end_date_already_past_terminates_at_once(
        self, session: Session, employer: EmployerWithKey, settings: Settings
    ) -> None:
        start = date(2026, 3, 2)
        n, _ = intake.create(
            session,
            employer.employer.id,
            NotificationCreate.model_validate(body_for(start=start, end=date(2026, 12, 31))),
            context(settings, at(date(2026, 2, 20))),
        )
        changes.terminate(
            session,
            employer.employer.id,
            n.id,
            TerminationIn(end_date=date(2026, 5, 31), reason="Vertrokken"),
            context(settings, at(date(2026, 6, 2))),
        )
        assert n.status == NotificationStatus.TERMINATED


def test_the_sweep_closes_it_the_day_after_the_end_date(sweep_db: SweepDb) -> None:  # noqa: F811
    with sweep_db.session() as session, session.begin():
        employer_id = add_employer(session, "12345678").id
    start = date(2026, 3, 2)
    nid = notify(sweep_db, employer_id, body_for(start=start), date(2026, 2, 20))
    end = date(2026, 6, 30)
    with sweep_db.session() as session, session.begin():
        changes.terminate(
            session,
            employer_id,
            nid,
            TerminationIn(end_date=end, reason="Seizoen voorbij"),
            context(sweep_db.settings, at(date(2026, 6, 1))),
        )
    run_sweep(sweep_db.engine, end, mode=SweepMode.FULL, settings=sweep_db.settings)
    assert status_of(sweep_db, nid) == NotificationStatus.ACTIVE  # the last day still runs
    run_sweep(
        sweep_db.engine, end + timedelta(days=1), mode=SweepMode.FULL, settings=sweep_db.settings
    )
    assert status_of(sweep_db, nid) == NotificationStatus.TERMINATED
    with sweep_db.session() as session:
        flags = session.exec(select(Flag)).all()
        # No "end date passed without a termination" flag: the termination was notified.
        assert "PAST_DECLARED_END" not in {f.rule_code for f in flags}


def status_of(db: SweepDb, nid: uuid.UUID) -> str:
    with db.session() as session:
        n = session.get(Notification, nid)
        assert n is not None
        return n.status
