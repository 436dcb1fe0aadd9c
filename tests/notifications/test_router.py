"""The notification API end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from meldplicht.accounts.service import revoke_key
from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import today
from meldplicht.core.security import split_api_key
from meldplicht.notifications.models import Notification, NotificationVersion, Worker
from tests.conftest import EmployerWithKey, unique_key
from tests.factories import day, notification_body, with_worker

URL = "/api/v1/notifications"


def post(client: TestClient, who: EmployerWithKey, body: dict[str, Any], **headers: str) -> Any:
    return client.post(URL, json=body, headers={**who.headers, **headers})


def count(session: Session, model: type[Any]) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def field_codes(response: Any) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["code"] for e in response.json()["errors"]}


class TestCreate:
    def test_accepted_with_receipt_and_findings(
        self, client: TestClient, employer: EmployerWithKey, session: Session
    ) -> None:
        response = post(client, employer, notification_body())
        assert response.status_code == 201, response.text
        data = response.json()
        assert data["receipt_number"].startswith("MP")
        assert data["status"] == "active"
        assert data["version"] == 1
        assert data["notice_date"] == today().isoformat()
        assert data["worker"]["bsn_masked"] == "******333"
        assert "111222333" not in response.text
        # A clean notice; only the "table may be out of date" note can appear, depending on
        # whether the minimum-wage table already covers the start date.
        assert {f["code"] for f in data["findings"]} <= {"MINIMUM_WAGE_TABLE_OUT_OF_DATE"}
        stored = session.get(Notification, uuid.UUID(data["id"]))
        assert stored is not None
        assert stored.employer_id == employer.employer.id
        actions = session.exec(select(AuditEvent.action)).all()
        assert actions.count("notification.created") == 1

    @pytest.mark.parametrize("lang", ["en", "nl"])
    def test_the_answer_is_what_reading_it_back_gives(
        self, client: TestClient, employer: EmployerWithKey, lang: str
    ) -> None:
        # Below the minimum wage, too many hours: findings with evidence and parameters.
        body = notification_body(
            hours_per_week="62",
            wage={"amount": "9.00", "period": "hour", "includes_holiday_allowance": False},
        )
        headers = {**employer.headers, "Accept-Language": lang}
        created = client.post(URL, json=body, headers=headers)
        assert created.status_code == 201, created.text
        assert len(created.json()["findings"]) >= 2
        read = client.get(f"{URL}/{created.json()['id']}", headers=headers)
        assert read.status_code == 200
        answered = read.json()
        del answered["history"]  # the detail view adds the version history
        assert created.json() == answered

    def test_a_known_person_is_one_worker_described_by_the_newest_notice(
        self, client: TestClient, employer: EmployerWithKey, session: Session
    ) -> None:
        first = post(client, employer, with_worker(notification_body(), given_names="Olena"))
        second = post(client, employer, with_worker(notification_body(), given_names="Olha"))
        assert first.status_code == second.status_code == 201, second.text
        ids = {uuid.UUID(first.json()["id"]), uuid.UUID(second.json()["id"])}
        worker_ids = set(
            session.exec(select(Notification.worker_id).where(col(Notification.id).in_(ids)))
        )
        assert len(worker_ids) == 1
        worker = session.get(Worker, worker_ids.pop())
        assert worker is not None
        session.refresh(worker)
        assert worker.given_names == "Olha"
        assert second.json()["worker"]["given_names"] == "Olha"

    def test_cyrillic_and_odd_unicode_round_trip(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        body = with_worker(
            notification_body(job_title="Прибиральниця 🧹 (schoonmaak)"),
            given_names="Ołena-Ïrína",
            surname="D'Arc",
            given_names_original="Олена Ґалина",
            surname_original="Ковалéнко",
        )
        created = post(client, employer, body).json()
        fetched = client.get(f"{URL}/{created['id']}", headers=employer.headers).json()
        assert fetched["worker"]["given_names_original"] == "Олена Ґалина"
        assert fetched["worker"]["surname_original"] == "Ковалéнко"
        assert fetched["worker"]["given_names"] == "Ołena-Ïrína"
        assert fetched["job_title"] == "Прибиральниця 🧹 (schoonmaak)"

    def test_late_notice_is_a_finding_not_an_error(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        body = notification_body(
            start_date=(today() + timedelta(days=1)).isoformat(), end_date=None
        )
        response = post(client, employer, body)
        assert response.status_code == 201
        codes = {f["code"] for f in response.json()["findings"]}
        assert "LATE_NOTICE" in codes
        finding = next(f for f in response.json()["findings"] if f["code"] == "LATE_NOTICE")
        assert finding["message_nl"]
        assert finding["message_en"]
        assert finding["legal_basis"]

    def test_dutch_messages_on_request(self, client: TestClient, employer: EmployerWithKey) -> None:
        body = notification_body(
            start_date=(today() + timedelta(days=1)).isoformat(), end_date=None
        )
        data = post(client, employer, body, **{"Accept-Language": "nl-NL"}).json()
        assert data["findings"][0]["message"] == data["findings"][0]["message_nl"]


class TestStructuralErrors:
    @pytest.mark.parametrize(
        ("field", "value", "code"),
        [
            ("bsn", "123456789", "invalid_bsn"),
            ("bsn", "000000000", "invalid_bsn"),
            ("bsn", "12345678a", "invalid_bsn"),
            ("v_number", "12345", "invalid_v_number"),
            ("nationality", "Ukraine", "string_pattern_mismatch"),
            ("birth_date", "1995-02-30", "date_from_datetime_parsing"),
            ("sex", "Q", "enum"),
            ("given_names", "   ", "string_too_short"),
            ("given_names", "12345", "invalid_name"),
            ("surname", "Null\u0000byte", "control_characters"),
        ],
    )
    def test_worker_fields(
        self, client: TestClient, employer: EmployerWithKey, field: str, value: str, code: str
    ) -> None:
        response = post(client, employer, with_worker(notification_body(), **{field: value}))
        assert response.status_code == 422
        assert field_codes(response)[f"worker.{field}"] == code

    @pytest.mark.parametrize(
        ("postcode", "ok"),
        [
            ("2671 AB", True),
            ("2671ab", True),
            ("2671 SA", False),
            ("0123 AB", False),
            ("267 AB", False),
            ("ABCD 12", False),
        ],
    )
    def test_postcode(
        self, client: TestClient, employer: EmployerWithKey, postcode: str, ok: bool
    ) -> None:
        body = notification_body(
            work_locations=[
                {"street": "Weg", "house_number": "1", "postcode": postcode, "city": "Delft"}
            ]
        )
        response = post(client, employer, body)
        if ok:
            assert response.status_code == 201
            assert (
                response.json()["work_locations"][0]["postcode"]
                == postcode.upper()[:4] + " " + postcode.upper().replace(" ", "")[4:]
            )
        else:
            assert field_codes(response)["work_locations.0.postcode"] == "invalid_postcode"

    def test_hirer_kvk(self, client: TestClient, employer: EmployerWithKey) -> None:
        body = notification_body(
            contract_type="temporary_agency", hirer={"kvk_number": "1234567", "name": "Inlener"}
        )
        assert field_codes(post(client, employer, body))["hirer.kvk_number"] == "invalid_kvk"

    def test_agency_work_needs_a_hirer(self, client: TestClient, employer: EmployerWithKey) -> None:
        body = notification_body(contract_type="temporary_agency")
        assert field_codes(post(client, employer, body))["hirer"] == "hirer_required"

    def test_every_field_error_at_once(self, client: TestClient, employer: EmployerWithKey) -> None:
        body = notification_body(hours_per_week="veel", start_date="tomorrow")
        body["wage"]["amount"] = "12.345"
        body["worker"]["bsn"] = "123456789"
        del body["job_title"]
        body["unexpected"] = 1
        codes = field_codes(post(client, employer, body))
        assert codes == {
            "hours_per_week": "decimal_parsing",
            "start_date": "date_format",
            "wage.amount": "decimal_max_places",
            "worker.bsn": "invalid_bsn",
            "job_title": "missing",
            "unexpected": "extra_forbidden",
        }

    def test_wrong_json_types(self, client: TestClient, employer: EmployerWithKey) -> None:
        body = notification_body(work_locations="Naaldwijk", wage=16.5, housing=[])
        body["declaration"]["truthful"] = False
        codes = field_codes(post(client, employer, body))
        assert codes["work_locations"] == "list_type"
        assert codes["wage"] == "model_attributes_type"
        assert codes["declaration.truthful"] == "literal_error"

    def test_negative_and_zero_amounts(self, client: TestClient, employer: EmployerWithKey) -> None:
        body = notification_body(hours_per_week="0")
        body["wage"]["amount"] = "-1"
        codes = field_codes(post(client, employer, body))
        assert codes["hours_per_week"] == "greater_than"
        assert codes["wage.amount"] == "greater_than"

    def test_self_employment_refused_with_legal_reason(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        response = post(client, employer, notification_body(contract_type="self_employed"))
        assert response.status_code == 422
        error = response.json()["errors"][0]
        assert error["code"] == "not_an_employment_contract"
        assert "6.5" in error["message"]
        assert "TWV" in error["message"]

    def test_dates_that_make_no_sense(self, client: TestClient, employer: EmployerWithKey) -> None:
        body = with_worker(notification_body(end_date=day(-1)), birth_date=day(400))
        codes = field_codes(post(client, employer, body))
        assert codes["end_date"] == "end_before_start"
        assert codes["worker.birth_date"] == "birth_date_not_past"
        old = with_worker(
            notification_body(start_date="2022-01-10", end_date=None), birth_date="1900-01-01"
        )
        codes = field_codes(post(client, employer, old))
        assert codes["start_date"] == "before_protection_start"

    def test_oversize_body(self, client: TestClient, employer: EmployerWithKey) -> None:
        body = notification_body(job_description="x" * 400_000)
        response = post(client, employer, body)
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"

    def test_not_json(self, client: TestClient, employer: EmployerWithKey) -> None:
        response = client.post(
            URL,
            content=b"{not json",
            headers={**employer.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "json_invalid"

    def test_rejected_request_stores_nothing(
        self, client: TestClient, employer: EmployerWithKey, session: Session
    ) -> None:
        assert post(client, employer, notification_body()).status_code == 201
        before = (
            count(session, Notification),
            count(session, Worker),
            count(session, NotificationVersion),
            count(session, AuditEvent),
        )
        bad = with_worker(notification_body(contract_type="self_employed"), bsn="999996356")
        assert post(client, employer, bad).status_code == 422
        after = (
            count(session, Notification),
            count(session, Worker),
            count(session, NotificationVersion),
            count(session, AuditEvent),
        )
        assert before == after


class TestIdempotency:
    def test_same_key_same_body_replays(
        self, client: TestClient, employer: EmployerWithKey, session: Session
    ) -> None:
        key = unique_key()
        first = post(client, employer, notification_body(), **{"Idempotency-Key": key})
        second = post(client, employer, notification_body(), **{"Idempotency-Key": key})
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second.headers.get("Idempotent-Replayed") == "true"
        assert count(session, Notification) == 1

    def test_same_key_other_body_conflicts(
        self, client: TestClient, employer: EmployerWithKey, session: Session
    ) -> None:
        key = unique_key()
        assert (
            post(client, employer, notification_body(), **{"Idempotency-Key": key}).status_code
            == 201
        )
        other = post(
            client, employer, notification_body(job_title="Anders"), **{"Idempotency-Key": key}
        )
        assert other.status_code == 409
        assert other.json()["code"] == "idempotency_key_reused"
        assert count(session, Notification) == 1

    def test_keys_are_per_caller(
        self,
        client: TestClient,
        employer: EmployerWithKey,
        other_employer: EmployerWithKey,
        session: Session,
    ) -> None:
        key = unique_key()
        a = post(client, employer, notification_body(), **{"Idempotency-Key": key})
        b = post(client, other_employer, notification_body(), **{"Idempotency-Key": key})
        assert a.json()["id"] != b.json()["id"]
        assert count(session, Notification) == 2


class TestAccess:
    def test_no_key(self, client: TestClient) -> None:
        response = client.post(URL, json=notification_body())
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")

    @pytest.mark.parametrize("token", ["nonsense", "mpk_abc", "mpk_000000000000_wrongsecret"])
    def test_bad_key(self, client: TestClient, token: str) -> None:
        response = client.get(URL, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401

    def test_revoked_key(
        self, client: TestClient, employer: EmployerWithKey, session: Session
    ) -> None:
        assert client.get(URL, headers=employer.headers).status_code == 200
        parts = split_api_key(employer.token)
        assert parts is not None
        revoke_key(session, parts[0])
        assert client.get(URL, headers=employer.headers).status_code == 401

    def test_other_employers_notification_is_404(
        self,
        client: TestClient,
        employer: EmployerWithKey,
        other_employer: EmployerWithKey,
        session: Session,
    ) -> None:
        created = post(client, employer, notification_body()).json()
        nid = created["id"]
        h = other_employer.headers
        assert client.get(f"{URL}/{nid}", headers=h).status_code == 404
        assert (
            client.post(
                f"{URL}/{nid}/changes",
                headers=h,
                json={"effective_date": day(28), "hours_per_week": "20"},
            ).status_code
            == 404
        )
        assert (
            client.post(
                f"{URL}/{nid}/termination", headers=h, json={"end_date": day(28), "reason": "x"}
            ).status_code
            == 404
        )
        assert (
            client.post(f"{URL}/{nid}/withdrawal", headers=h, json={"reason": "x"}).status_code
            == 404
        )
        assert client.get(URL, headers=h).json()["items"] == []
        stored = session.get(Notification, uuid.UUID(nid))
        assert stored is not None
        assert stored.version == 1
        assert stored.status == "active"

    def test_malformed_id_is_404(self, client: TestClient, employer: EmployerWithKey) -> None:
        # Ids are UUIDs in the route itself, so /notifications/bulk is never read as an id.
        response = client.get(f"{URL}/not-a-uuid", headers=employer.headers)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


class TestLifecycle:
    def test_change_terminate_history(self, client: TestClient, employer: EmployerWithKey) -> None:
        created = post(client, employer, notification_body()).json()
        nid = created["id"]
        changed = client.post(
            f"{URL}/{nid}/changes",
            headers=employer.headers,
            json={
                "effective_date": day(28),
                "hours_per_week": "24",
                "wage": {"amount": "17.00", "period": "hour"},
                "reason": "Minder uren",
            },
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["version"] == 2
        assert changed.json()["hours_per_week"] == "24.00"
        ended = client.post(
            f"{URL}/{nid}/termination",
            headers=employer.headers,
            json={"end_date": day(100), "reason": "Seizoen voorbij"},
        )
        assert ended.status_code == 200
        # The end date lies ahead: the notification stays active until then.
        assert ended.json()["status"] == "active"
        assert ended.json()["termination_pending"] is True
        detail = client.get(f"{URL}/{nid}", headers=employer.headers).json()
        kinds = [v["kind"] for v in detail["history"]]
        assert kinds == ["initial", "change", "termination"]
        # What was declared first is still there, unchanged.
        assert detail["history"][0]["declaration"]["hours_per_week"] == "38.00"
        assert detail["history"][0]["declaration"]["wage"]["amount"] == "16.50"
        assert detail["history"][1]["changes"]["hours_per_week"] == {"from": "38.00", "to": "24.00"}
        assert detail["history"][2]["declaration"]["end_date"] == day(100)
        again = client.post(
            f"{URL}/{nid}/changes",
            headers=employer.headers,
            json={"effective_date": day(101), "hours_per_week": "10"},
        )
        assert again.status_code == 200
        withdrawn = client.post(
            f"{URL}/{nid}/withdrawal", headers=employer.headers, json={"reason": "Vergissing"}
        )
        assert withdrawn.status_code == 200
        closed = client.post(
            f"{URL}/{nid}/changes",
            headers=employer.headers,
            json={"effective_date": day(101), "hours_per_week": "12"},
        )
        assert closed.status_code == 409

    def test_empty_change_refused(self, client: TestClient, employer: EmployerWithKey) -> None:
        nid = post(client, employer, notification_body()).json()["id"]
        response = client.post(
            f"{URL}/{nid}/changes", headers=employer.headers, json={"effective_date": day(28)}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "nothing_to_change"

    def test_invalid_change_alters_nothing(
        self, client: TestClient, employer: EmployerWithKey, session: Session
    ) -> None:
        nid = post(client, employer, notification_body()).json()["id"]
        response = client.post(
            f"{URL}/{nid}/changes",
            headers=employer.headers,
            json={"effective_date": day(28), "hours_per_week": "20", "end_date": day(-10)},
        )
        assert response.status_code == 422
        stored = session.get(Notification, uuid.UUID(nid))
        assert stored is not None
        session.refresh(stored)
        assert stored.version == 1
        assert str(stored.hours_per_week) == "38.00"

    def test_withdrawal_before_start_only(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        nid = post(client, employer, notification_body()).json()["id"]
        response = client.post(
            f"{URL}/{nid}/withdrawal",
            headers=employer.headers,
            json={"reason": "Verkeerde werknemer"},
        )
        assert response.status_code == 200
        assert response.json()["status"] == "withdrawn"
        started = notification_body(start_date=today().isoformat(), end_date=None)
        sid = post(client, employer, with_worker(started, bsn="123456782")).json()["id"]
        late = client.post(
            f"{URL}/{sid}/withdrawal", headers=employer.headers, json={"reason": "Te laat"}
        )
        assert late.status_code == 409
        assert late.json()["code"] == "withdrawal_too_late"


class TestList:
    def test_pagination_and_filters(self, client: TestClient, employer: EmployerWithKey) -> None:
        bsns = ["111222333", "123456782", "999996356", "999993653", "999990019"]
        for i, bsn in enumerate(bsns):
            body = with_worker(
                notification_body(start_date=day(i * 30), end_date=None),
                bsn=bsn,
                surname=f"Shevchenko{i}",
            )
            assert post(client, employer, body).status_code == 201
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = client.get(URL, headers=employer.headers, params=params).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 5
        by_bsn = client.get(URL, headers=employer.headers, params={"worker_bsn": "999996356"})
        assert [i["worker"]["surname"] for i in by_bsn.json()["items"]] == ["Shevchenko2"]
        by_start = client.get(
            URL, headers=employer.headers, params={"start_from": day(25), "start_to": day(65)}
        )
        assert len(by_start.json()["items"]) == 2
        by_name = client.get(URL, headers=employer.headers, params={"worker_name": "chenko4"})
        assert len(by_name.json()["items"]) == 1

    def test_name_search_treats_wildcards_as_text(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        assert post(client, employer, notification_body()).status_code == 201
        for text in ("%", "_", "K_valenko"):
            found = client.get(URL, headers=employer.headers, params={"worker_name": text})
            assert found.json()["items"] == [], text
        found = client.get(URL, headers=employer.headers, params={"worker_name": "kovalen"})
        assert len(found.json()["items"]) == 1

    def test_bad_cursor(self, client: TestClient, employer: EmployerWithKey) -> None:
        response = client.get(URL, headers=employer.headers, params={"cursor": "%%%garbage"})
        assert response.status_code == 422

    def test_cursor_is_bound_to_the_filters(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        for bsn in ("111222333", "123456782"):
            assert (
                post(client, employer, with_worker(notification_body(), bsn=bsn)).status_code == 201
            )
        page = client.get(URL, headers=employer.headers, params={"limit": 1}).json()
        cursor = page["next_cursor"]
        assert cursor
        again = client.get(URL, headers=employer.headers, params={"limit": 1, "cursor": cursor})
        assert again.status_code == 200
        assert len(again.json()["items"]) == 1
        other = client.get(
            URL, headers=employer.headers, params={"cursor": cursor, "status": "withdrawn"}
        )
        assert other.status_code == 422
        assert other.headers["content-type"].startswith("application/problem+json")
        assert other.json()["code"] == "invalid_cursor"
        assert other.json()["errors"][0]["field"] == "cursor"


class TestHousingConditionsAndBbl:
    def test_stored_answered_and_changed(
        self, client: TestClient, employer: EmployerWithKey, session: Session
    ) -> None:
        housing = {
            "provided": True,
            "address": {
                "street": "Dorpsstraat",
                "house_number": "5a",
                "postcode": "2671 CD",
                "city": "Naaldwijk",
            },
            "monthly_deduction": "300.00",
            "written_consent": True,
            "certified": False,
        }
        body = notification_body(housing=housing, bbl_student=True)
        created = post(client, employer, body)
        assert created.status_code == 201, created.text
        data = created.json()
        codes = {f["code"] for f in data["findings"]}
        assert "HOUSING_DEDUCTION_CONDITIONS" in codes
        assert data["housing"]["certified"] is False
        assert data["bbl_student"] is True
        stored = session.get(Notification, uuid.UUID(data["id"]))
        assert stored is not None
        assert stored.housing_certified is False
        assert stored.bbl_student is True
        changed = client.post(
            f"{URL}/{data['id']}/changes",
            headers=employer.headers,
            json={
                "effective_date": day(0),
                "housing": {**housing, "certified": True},
                "bbl_student": False,
            },
        )
        assert changed.status_code in (200, 201), changed.text
        read = client.get(f"{URL}/{data['id']}", headers=employer.headers).json()
        assert read["housing"]["certified"] is True
        assert read["bbl_student"] is False
        assert "HOUSING_DEDUCTION_CONDITIONS" not in {f["code"] for f in read["findings"]}


class TestPaidInCash:
    """Wet minimumloon en minimumvakantiebijslag art. 7a: the minimum wage into an account in
    the worker's own name. A notification that declares cash payment is a finding."""

    def test_declared_cash_is_a_finding(
        self, client: TestClient, employer: EmployerWithKey, session: Session
    ) -> None:
        created = post(client, employer, notification_body(paid_in_cash=True))
        assert created.status_code == 201, created.text
        data = created.json()
        cash = [f for f in data["findings"] if f["code"] == "CASH_PAYMENT_DECLARED"]
        assert len(cash) == 1
        assert cash[0]["severity"] == "medium"
        assert "art. 7a" in cash[0]["legal_basis"]
        assert data["paid_in_cash"] is True
        stored = session.get(Notification, uuid.UUID(data["id"]))
        assert stored is not None
        assert stored.paid_in_cash is True
        version = session.exec(
            select(NotificationVersion).where(NotificationVersion.notification_id == stored.id)
        ).one()
        assert version.declaration["paid_in_cash"] is True
        nl = client.get(
            f"{URL}/{data['id']}", headers={**employer.headers, "Accept-Language": "nl"}
        ).json()
        messages = [f["message"] for f in nl["findings"] if f["code"] == "CASH_PAYMENT_DECLARED"]
        assert len(messages) == 1
        assert "contant" in messages[0]

    @pytest.mark.parametrize("stated", [False, None])
    def test_account_or_not_stated_is_no_finding(
        self, client: TestClient, employer: EmployerWithKey, stated: bool | None
    ) -> None:
        body = notification_body() if stated is None else notification_body(paid_in_cash=stated)
        created = post(client, employer, body)
        assert created.status_code == 201, created.text
        data = created.json()
        assert "CASH_PAYMENT_DECLARED" not in {f["code"] for f in data["findings"]}
        assert data["paid_in_cash"] is stated

    def test_a_change_to_cash_brings_the_finding_and_back(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        data = post(client, employer, notification_body()).json()

        def change(value: bool) -> set[str]:
            changed = client.post(
                f"{URL}/{data['id']}/changes",
                headers=employer.headers,
                json={"effective_date": day(0), "paid_in_cash": value},
            )
            assert changed.status_code in (200, 201), changed.text
            read = client.get(f"{URL}/{data['id']}", headers=employer.headers).json()
            assert read["paid_in_cash"] is value
            return {f["code"] for f in read["findings"]}

        assert "CASH_PAYMENT_DECLARED" in change(True)
        assert "CASH_PAYMENT_DECLARED" not in change(False)

    def test_not_a_boolean_is_a_422(self, client: TestClient, employer: EmployerWithKey) -> None:
        response = post(client, employer, notification_body(paid_in_cash="sometimes"))
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "paid_in_cash" in field_codes(response)
