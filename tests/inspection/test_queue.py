"""The queue: filters, sort, keyset pages, a flag in full, personal data, employer view, health."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import today, utcnow
from meldplicht.flags.models import Flag, FlagStatus, Outcome, SubjectType
from meldplicht.inspection.queue import SEVERITY_TARGET_DAYS
from meldplicht.rules.facts import Severity
from tests.conftest import EmployerWithKey
from tests.factories import VALID_BSNS
from tests.inspection.conftest import (
    INSPECTION,
    StaffWithKey,
    late_body,
    notify,
    synthetic_flag,
    underpaid_body,
)

FLAGS = f"{INSPECTION}/flags"


def get(api: TestClient, who: StaffWithKey, url: str, **params: Any) -> Any:
    response = api.get(url, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def walk(api: TestClient, who: StaffWithKey, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every item of the queue, page by page."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = get(api, who, FLAGS, **query)
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ended")


@pytest.fixture
def volume(session: Session, employer: EmployerWithKey) -> list[Flag]:
    """41 flags with many equal risk scores (ties) and ages, in every active status."""
    severities = [Severity.HIGH, Severity.MEDIUM, Severity.LOW]
    now = utcnow()
    flags = []
    for i in range(41):
        flag = synthetic_flag(
            session,
            employer.employer,
            severity=severities[i % 3],
            workers=1 + (i % 4),
            first_seen=now - timedelta(hours=i * 7 % 50),
        )
        flags.append(flag)
    for flag in flags[:6]:
        flag.status = FlagStatus.CLAIMED
    for flag in flags[6:9]:
        flag.status = FlagStatus.INVESTIGATING
    for flag in flags[9:12]:
        flag.status = FlagStatus.RESOLVED
        flag.outcome = Outcome.NO_VIOLATION
    for flag in flags[12:14]:
        flag.status = FlagStatus.CLEARED
    session.add_all(flags)
    session.flush()
    return flags


class TestPagination:
    @pytest.mark.parametrize("limit", [1, 4, 7, 200])
    def test_risk_order_no_gaps_no_duplicates(
        self, api: TestClient, inspector: StaffWithKey, volume: list[Flag], limit: int
    ) -> None:
        items = walk(api, inspector, limit)
        active = {str(f.id) for f in volume if f.status in ("open", "claimed", "investigating")}
        got = [item["id"] for item in items]
        assert len(got) == len(set(got)) == len(active) == 36
        assert set(got) == active
        keys = [(item["risk_score"], uuid.UUID(item["id"])) for item in items]
        assert keys == sorted(keys, reverse=True)
        assert len({item["risk_score"] for item in items}) < len(items)  # there were ties

    def test_age_order_oldest_first(
        self, api: TestClient, inspector: StaffWithKey, volume: list[Flag]
    ) -> None:
        items = walk(api, inspector, 5, sort="age")
        assert len(items) == 36
        keys = [(item["first_seen_at"], uuid.UUID(item["id"])) for item in items]
        assert keys == sorted(keys)

    def test_single_status_pages(
        self, api: TestClient, inspector: StaffWithKey, volume: list[Flag]
    ) -> None:
        items = walk(api, inspector, 2, status="claimed")
        assert {i["status"] for i in items} == {"claimed"}
        assert len(items) == 6

    def test_cursor_is_bound_to_sort_and_filters(
        self, api: TestClient, inspector: StaffWithKey, volume: list[Flag]
    ) -> None:
        cursor = get(api, inspector, FLAGS, limit=3)["next_cursor"]
        assert cursor
        for params in ({"sort": "age"}, {"severity": "high"}):
            response = api.get(
                FLAGS, params={"cursor": cursor, **params}, headers=inspector.headers
            )
            assert response.status_code == 422
            assert response.json()["code"] == "invalid_cursor"
        garbage = api.get(FLAGS, params={"cursor": "bm9wZQ"}, headers=inspector.headers)
        assert garbage.status_code == 422
        assert garbage.json()["errors"][0]["field"] == "cursor"

    def test_limit_bounds(self, api: TestClient, inspector: StaffWithKey) -> None:
        assert api.get(FLAGS, params={"limit": 0}, headers=inspector.headers).status_code == 422
        assert api.get(FLAGS, params={"limit": 201}, headers=inspector.headers).status_code == 422


class TestFilters:
    def test_default_is_active_statuses(
        self, api: TestClient, inspector: StaffWithKey, volume: list[Flag]
    ) -> None:
        statuses = {i["status"] for i in walk(api, inspector, 200)}
        assert statuses == {"open", "claimed", "investigating"}
        cleared = walk(api, inspector, 200, status="cleared")
        assert len(cleared) == 2
        both = walk(api, inspector, 200, status=["cleared", "resolved"])
        assert len(both) == 5

    def test_rule_severity_sector_province(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
    ) -> None:
        late = synthetic_flag(session, employer.employer, severity=Severity.MEDIUM)
        wage = synthetic_flag(
            session,
            employer.employer,
            rule="BELOW_MINIMUM_WAGE",
            severity=Severity.HIGH,
            postcode="1011 AB",
        )
        assert ids(get(api, inspector, FLAGS, rule="LATE_NOTICE")) == [str(late.id)]
        assert ids(get(api, inspector, FLAGS, severity="high")) == [str(wage.id)]
        both = get(api, inspector, FLAGS, rule=["LATE_NOTICE", "BELOW_MINIMUM_WAGE"])
        assert ids(both) == [str(wage.id), str(late.id)]  # highest risk first
        assert len(ids(get(api, inspector, FLAGS, sector="Glastuinbouw"))) == 2
        assert ids(get(api, inspector, FLAGS, sector="Schoonmaak")) == []
        assert ids(get(api, inspector, FLAGS, province="Noord-Holland")) == [str(wage.id)]
        bad = api.get(FLAGS, params={"province": "Atlantis"}, headers=inspector.headers)
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["code"] == "unknown_province"
        bad_severity = api.get(FLAGS, params={"severity": "x"}, headers=inspector.headers)
        assert bad_severity.status_code == 422

    def test_employer_by_id_or_kvk(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
        other_employer: EmployerWithKey,
    ) -> None:
        mine = synthetic_flag(session, employer.employer)
        theirs = synthetic_flag(session, other_employer.employer)
        by_id = get(api, inspector, FLAGS, employer=str(other_employer.employer.id))
        assert ids(by_id) == [str(theirs.id)]
        assert ids(get(api, inspector, FLAGS, employer="12345678")) == [str(mine.id)]
        assert ids(get(api, inspector, FLAGS, employer="1234 5678")) == [str(mine.id)]
        assert ids(get(api, inspector, FLAGS, employer="11111111")) == []
        bad = api.get(FLAGS, params={"employer": "acme"}, headers=inspector.headers)
        assert bad.status_code == 422

    def test_assignee_me_none_and_id(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        inspector2: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
    ) -> None:
        a, b, c = (synthetic_flag(session, employer.employer) for _ in range(3))
        assert api.post(f"{FLAGS}/{a.id}/claim", headers=inspector.headers).status_code == 200
        assert api.post(f"{FLAGS}/{b.id}/claim", headers=inspector2.headers).status_code == 200
        assert ids(get(api, inspector, FLAGS, assignee="me")) == [str(a.id)]
        assert ids(get(api, inspector2, FLAGS, assignee="me")) == [str(b.id)]
        assert ids(get(api, inspector, FLAGS, assignee=str(inspector2.id))) == [str(b.id)]
        assert ids(get(api, inspector, FLAGS, assignee="none")) == [str(c.id)]
        bad = api.get(FLAGS, params={"assignee": "you"}, headers=inspector.headers)
        assert bad.status_code == 422

    def test_first_seen_range(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
    ) -> None:
        now = utcnow()
        old = synthetic_flag(session, employer.employer, first_seen=now - timedelta(days=20))
        new = synthetic_flag(session, employer.employer, first_seen=now)
        since = (today() - timedelta(days=3)).isoformat()
        until = (today() - timedelta(days=10)).isoformat()
        assert ids(get(api, inspector, FLAGS, first_seen_from=since)) == [str(new.id)]
        assert ids(get(api, inspector, FLAGS, first_seen_to=until)) == [str(old.id)]
        day_of_old = (now - timedelta(days=20)).date().isoformat()
        around = get(
            api,
            inspector,
            FLAGS,
            first_seen_from=(now - timedelta(days=21)).date().isoformat(),
            first_seen_to=day_of_old,
        )
        assert ids(around) == [str(old.id)]
        reversed_range = api.get(
            FLAGS,
            params={"first_seen_from": since, "first_seen_to": until},
            headers=inspector.headers,
        )
        assert reversed_range.status_code == 422

    def test_snoozed_hidden_unless_asked(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
    ) -> None:
        awake = synthetic_flag(session, employer.employer)
        asleep = synthetic_flag(session, employer.employer)
        expired = synthetic_flag(session, employer.employer)
        asleep.snoozed_until = today()
        expired.snoozed_until = today() - timedelta(days=1)
        session.add_all([asleep, expired])
        session.flush()
        assert set(ids(get(api, inspector, FLAGS))) == {str(awake.id), str(expired.id)}
        everything = get(api, inspector, FLAGS, include_snoozed="true")
        assert set(ids(everything)) == {str(awake.id), str(asleep.id), str(expired.id)}


class TestDetail:
    def test_everything_about_a_flag(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
        other_employer: EmployerWithKey,
    ) -> None:
        late_id = notify(api, employer.headers, late_body())
        underpaid_id = notify(api, employer.headers, underpaid_body(bsn=VALID_BSNS[1]))
        elsewhere_id = notify(api, other_employer.headers, late_body())  # same person
        flag = session.exec(
            select(Flag).where(
                Flag.notification_id == uuid.UUID(late_id), Flag.rule_code == "LATE_NOTICE"
            )
        ).one()
        api.post(f"{FLAGS}/{flag.id}/notes", json={"body": "Gebeld."}, headers=inspector.headers)
        response = api.get(f"{FLAGS}/{flag.id}", headers=inspector.headers)
        assert response.status_code == 200, response.text
        detail = response.json()
        assert detail["rule_code"] == "LATE_NOTICE"
        assert detail["evidence"]
        assert detail["parameters"]
        assert detail["risk_breakdown"]["formula"].endswith(f"= {detail['risk_score']}")
        assert detail["worker_bsn_masked"] == "******333"
        assert "111222333" not in response.text
        assert detail["notification"]["id"] == late_id
        assert [v["kind"] for v in detail["notification"]["history"]] == ["initial"]
        employer_related = {f["notification_id"] for f in detail["related_employer_flags"]}
        assert employer_related == {underpaid_id}
        person_related = {f["notification_id"] for f in detail["related_person_flags"]}
        assert person_related == {elsewhere_id}
        assert [n["body"] for n in detail["notes"]] == ["Gebeld."]
        assert detail["notes"][0]["author_id"] == str(inspector.id)
        actions = [e["action"] for e in detail["audit"]]
        assert actions == ["flag.opened", "flag.note_added"]

    def test_unknown_flag_is_404(self, api: TestClient, inspector: StaffWithKey) -> None:
        response = api.get(f"{FLAGS}/{uuid.uuid4()}", headers=inspector.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "flag_not_found"
        assert api.get(f"{FLAGS}/nope", headers=inspector.headers).status_code == 422

    def test_dutch_notification_messages_on_request(
        self, api: TestClient, inspector: StaffWithKey, session: Session, employer: EmployerWithKey
    ) -> None:
        nid = notify(api, employer.headers, late_body())
        flag = session.exec(select(Flag).where(Flag.notification_id == uuid.UUID(nid))).first()
        assert flag is not None
        detail = api.get(
            f"{FLAGS}/{flag.id}", headers={**inspector.headers, "Accept-Language": "nl"}
        ).json()
        finding = detail["notification"]["findings"][0]
        assert finding["message"] == finding["message_nl"]


class TestPersonalData:
    def test_full_bsn_with_reason_is_audited(
        self, api: TestClient, inspector: StaffWithKey, session: Session, employer: EmployerWithKey
    ) -> None:
        nid = notify(api, employer.headers, late_body())
        flag = session.exec(select(Flag).where(Flag.notification_id == uuid.UUID(nid))).first()
        assert flag is not None
        url = f"{FLAGS}/{flag.id}/personal-data"
        assert api.get(url, headers=inspector.headers).status_code == 422
        assert api.get(url, params={"reason": ""}, headers=inspector.headers).status_code == 422
        response = api.get(
            url, params={"reason": "Controle ter plaatse 12 mei"}, headers=inspector.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["bsn"] == "111222333"
        assert response.json()["surname"] == "Kovalenko"
        assert response.headers["cache-control"] == "no-store"
        viewed = session.exec(
            select(AuditEvent).where(AuditEvent.action == "personal_data.viewed")
        ).one()
        assert viewed.subject_type == "flag"
        assert viewed.subject_id == str(flag.id)
        assert viewed.actor_id == f"user:{inspector.id}"
        assert viewed.actor_role == "inspector"
        assert viewed.details["reason"] == "Controle ter plaatse 12 mei"
        trail = api.get(f"{FLAGS}/{flag.id}", headers=inspector.headers).json()["audit"]
        assert "personal_data.viewed" in [e["action"] for e in trail]

    def test_employer_flag_has_no_personal_data(
        self, api: TestClient, inspector: StaffWithKey, session: Session, employer: EmployerWithKey
    ) -> None:
        flag = synthetic_flag(session, employer.employer, subject_type=SubjectType.EMPLOYER)
        response = api.get(
            f"{FLAGS}/{flag.id}/personal-data",
            params={"reason": "nieuwsgierig"},
            headers=inspector.headers,
        )
        assert response.status_code == 404
        assert response.json()["code"] == "no_personal_data"
        assert not session.exec(
            select(AuditEvent).where(AuditEvent.action == "personal_data.viewed")
        ).all()


class TestEmployerView:
    def test_grouped_by_rule_with_workers_and_history(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        supervisor: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
        other_employer: EmployerWithKey,
    ) -> None:
        notify(api, employer.headers, late_body(bsn=VALID_BSNS[0]))
        notify(api, employer.headers, late_body(bsn=VALID_BSNS[1]))
        notify(api, employer.headers, late_body(bsn=VALID_BSNS[1]))
        notify(api, employer.headers, underpaid_body(bsn=VALID_BSNS[2]))
        notify(api, other_employer.headers, late_body())
        resolved = synthetic_flag(session, employer.employer, rule="EXCESSIVE_HOURS")
        api.post(f"{FLAGS}/{resolved.id}/claim", headers=inspector.headers)
        api.post(
            f"{FLAGS}/{resolved.id}/resolve",
            json={"outcome": "violation_confirmed", "note": "Bevestigd"},
            headers=inspector.headers,
        )
        view = get(api, inspector, f"{INSPECTION}/employers/{employer.employer.id}")
        assert view["employer"]["kvk_number"] == "12345678"
        rules = {g["rule_code"]: g for g in view["rules"]}
        assert set(rules) == {"LATE_NOTICE", "BELOW_MINIMUM_WAGE"}
        assert rules["LATE_NOTICE"]["flags"] == 3
        assert rules["LATE_NOTICE"]["workers_affected"] == 2
        assert rules["LATE_NOTICE"]["by_status"] == {"open": 3}
        assert len(rules["LATE_NOTICE"]["flag_ids"]) == 3
        assert rules["BELOW_MINIMUM_WAGE"]["severity"] == "high"
        assert view["rules"][0]["rule_code"] == "BELOW_MINIMUM_WAGE"  # highest risk first
        assert view["active_flags"] == 4
        assert view["notifications"] == 4
        assert view["active_notifications"] == 4
        assert view["outcomes"] == {"violation_confirmed": 1}
        assert [r["id"] for r in view["recent_resolutions"]] == [str(resolved.id)]
        by_kvk = get(api, supervisor, f"{INSPECTION}/employers/12345678")
        assert by_kvk["employer"]["id"] == str(employer.employer.id)

    def test_unknown_employer(self, api: TestClient, inspector: StaffWithKey) -> None:
        url = f"{INSPECTION}/employers"
        assert api.get(f"{url}/{uuid.uuid4()}", headers=inspector.headers).status_code == 404
        assert api.get(f"{url}/99999999", headers=inspector.headers).status_code == 404
        assert api.get(f"{url}/acme", headers=inspector.headers).status_code == 422


class TestHealth:
    def test_counts_overdue_and_precision(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
    ) -> None:
        assert SEVERITY_TARGET_DAYS == {"high": 5, "medium": 15, "low": 30}
        now = utcnow()

        def aged(days: float, severity: Severity, rule: str = "LATE_NOTICE") -> Flag:
            return synthetic_flag(
                session,
                employer.employer,
                rule=rule,
                severity=severity,
                first_seen=now - timedelta(days=days),
            )

        aged(1, Severity.HIGH)  # 0-7, on time
        aged(6, Severity.HIGH)  # 0-7, overdue (target 5)
        aged(10, Severity.MEDIUM)  # 8-30, on time
        aged(20, Severity.MEDIUM)  # 8-30, overdue (15)
        aged(40, Severity.LOW)  # 31-90, overdue (30)
        aged(100, Severity.LOW)  # 91+, overdue
        sleepy = aged(60, Severity.HIGH)  # snoozed: counted apart
        sleepy.snoozed_until = today() + timedelta(days=5)
        cleared = aged(3, Severity.LOW)
        cleared.status = FlagStatus.CLEARED
        outcomes = ["violation_confirmed", "violation_confirmed", "no_violation", "duplicate"]
        for i, outcome in enumerate(outcomes):
            flag = aged(2, Severity.HIGH, rule="LATE_NOTICE" if i < 3 else "EXCESSIVE_HOURS")
            flag.status = FlagStatus.RESOLVED
            flag.outcome = outcome
        session.flush()
        health = get(api, inspector, f"{INSPECTION}/health")
        assert health["by_status"] == {
            "open": 7,
            "claimed": 0,
            "investigating": 0,
            "resolved": 4,
            "cleared": 1,
        }
        assert health["active_by_age"] == {"0-7": 2, "8-30": 2, "31-90": 1, "91+": 1}
        assert health["snoozed"] == 1
        assert health["overdue_by_severity"] == {"high": 1, "medium": 1, "low": 2}
        assert health["overdue_total"] == 4
        assert health["overdue_targets_days"] == {"high": 5, "medium": 15, "low": 30}
        precision = {p["rule_code"]: p for p in health["precision_by_rule"]}
        assert precision["LATE_NOTICE"] == {
            "rule_code": "LATE_NOTICE",
            "resolved": 3,
            "violation_confirmed": 2,
            "precision": 0.6667,
        }
        assert precision["EXCESSIVE_HOURS"]["precision"] == 0.0

    def test_empty_queue(self, api: TestClient, inspector: StaffWithKey) -> None:
        health = get(api, inspector, f"{INSPECTION}/health")
        assert health["overdue_total"] == 0
        assert health["active_by_age"] == {"0-7": 0, "8-30": 0, "31-90": 0, "91+": 0}
        assert health["precision_by_rule"] == []
