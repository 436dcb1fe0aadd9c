"""Signals from outside, on both databases: the worker page's form and the partner API, their
limits, what is stored (exactly the fields asked), matching to an employer's case, the rate
limit, and that employers never see a signal while inspectors do."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from sqlmodel import Session, col

from meldplicht.accounts.models import Role
from meldplicht.accounts.ratelimit import RateLimiter, RateLimitSettings
from meldplicht.accounts.service import create_user
from meldplicht.audit.models import AuditEvent
from meldplicht.core.errors import PROBLEM_JSON
from meldplicht.employers.models import Employer
from meldplicht.inspection import signals
from meldplicht.inspection.models import Case, Signal
from tests.conftest import EmployerWithKey, make_employer
from tests.factories import notification_body
from tests.inspection.conftest import NOTIFICATIONS, StaffWithKey, notify, synthetic_flag

API = "/api/v1/signals"
PAGE = "/worker/signal"
UK = {"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WHAT_UK = "Нам не платять зарплату вже два місяці, працюємо по 60 годин на тиждень."
# The columns a signal has: what the form asks, and where it went. Nothing about the sender.
SIGNAL_COLUMNS = {
    "id",
    "case_id",
    "employer_id",
    "matched_by",
    "employer_name",
    "kvk_number",
    "place",
    "what_happened",
    "contact",
    "language",
    "source",
    "status",
    "received_at",
    "reviewed_at",
    "reviewed_by",
}


def _csrf(client: TestClient, path: str = PAGE, headers: dict[str, str] | None = None) -> str:
    match = _CSRF.search(client.get(path, headers=headers or {}).text)
    assert match
    return match.group(1)


def _post_page(
    client: TestClient, data: dict[str, str], headers: dict[str, str] | None = None
) -> Any:
    headers = headers or UK
    form = {"csrf_token": _csrf(client, headers=headers), **data}
    return client.post(PAGE, data=form, headers=headers, follow_redirects=False)


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "employer_name": "Kwekerij De Tuin",
        "place": "Naaldwijk",
        "what_happened": "Workers are paid 8 euro an hour in cash.",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def _signals(session: Session) -> list[Signal]:
    session.expire_all()
    return list(session.exec(select(Signal).order_by(col(Signal.received_at))).scalars())


def _case(session: Session, case_id: uuid.UUID) -> Case:
    case = session.get(Case, case_id)
    assert case is not None
    session.refresh(case)
    return case


# --- the page -------------------------------------------------------------------------------


def test_the_form_follows_accept_language_and_offers_the_other_languages(
    client: TestClient,
) -> None:
    page = client.get(PAGE, headers=UK)
    assert page.status_code == 200
    assert '<html lang="uk">' in page.text
    assert "Повідомити про роботодавця" in page.text
    assert 'href="/worker/signal?lang=en"' in page.text
    assert 'href="/worker/signal?lang=nl"' in page.text
    english = client.get(PAGE + "?lang=en")
    assert "Report an employer" in english.text
    # The worker page links to the form.
    assert 'href="/worker/signal"' in client.get("/worker", headers=UK).text


def test_a_worker_sends_a_signal_in_ukrainian_and_exactly_its_fields_are_stored(
    client: TestClient, session: Session, employer: EmployerWithKey
) -> None:
    sent = _post_page(
        client,
        {
            "employer_name": "",
            "kvk_number": "1234 5678",
            "place": "Наалдвейк",
            "what_happened": WHAT_UK,
            "contact": "",
            "unasked": "should not be kept",
        },
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/worker/signal/thanks"
    thanks = client.get(sent.headers["location"], headers=UK)
    assert "Дякуємо: ваше повідомлення надійшло" in thanks.text
    assert "Що буде далі" in thanks.text
    assert "0800 5151" in thanks.text
    assert "fairwork.nu" in thanks.text

    assert {c["name"] for c in inspect(session.connection()).get_columns("signal")} == (
        SIGNAL_COLUMNS
    )
    [row] = _signals(session)
    stored = row.model_dump()
    assert stored == {
        "id": row.id,
        "case_id": row.case_id,
        "employer_id": employer.employer.id,
        "matched_by": "kvk",
        "employer_name": None,
        "kvk_number": "12345678",
        "place": "Наалдвейк",
        "what_happened": WHAT_UK,
        "contact": None,
        "language": "uk",
        "source": "worker_page",
        "status": "unverified",
        "received_at": row.received_at,
        "reviewed_at": None,
        "reviewed_by": None,
    }
    # Nothing of the sender (the test client's address, its browser) is anywhere in it.
    text = json.dumps(stored, default=str)
    assert "testclient" not in text
    assert "python-httpx" not in text
    assert "should not be kept" not in text
    # The audit says a signal came, not what it said.
    [event] = session.exec(
        select(AuditEvent).where(AuditEvent.action == "signal.received")
    ).scalars()
    assert event.subject_id == str(row.id)
    assert set(event.details) == {"case_id", "source", "language", "matched_by"}
    assert WHAT_UK not in json.dumps(event.details, ensure_ascii=False)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"what_happened": ""}, "what_happened", "Опишіть, що сталося."),
        ({"employer_name": "", "kvk_number": ""}, "employer_name", "назву роботодавця"),
        ({"employer_name": "x" * 201}, "employer_name", "не більше ніж 200 символів"),
        ({"what_happened": "y" * 4001}, "what_happened", "не більше ніж 4000 символів"),
        ({"kvk_number": "1234"}, "kvk_number", "8 цифр"),
        ({"place": ""}, "place", "Вкажіть, де ця робота"),
    ],
)
def test_the_form_refuses_what_breaks_its_limits_with_a_linked_summary(
    client: TestClient, session: Session, data: dict[str, str], field: str, message: str
) -> None:
    base = {"employer_name": "Tuin", "kvk_number": "", "place": "Naaldwijk", "what_happened": "x"}
    page = _post_page(client, {**base, **data})
    assert page.status_code == 422
    assert 'class="error-summary"' in page.text
    assert f'href="#{field}"' in page.text
    assert f'id="{field}"' in page.text
    assert message in page.text
    assert 'aria-invalid="true"' in page.text
    assert _signals(session) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("what_happened", "Мій BSN 111222333, мені не платять."),
        ("what_happened", "bsn 1112.22.333 and no payslip"),
        ("contact", "V-nummer 1234567890"),
        ("what_happened", "Paid to NL91 ABNA 0417 1643 00 only half"),
        ("employer_name", "Tuin 111222333"),
    ],
)
def test_a_personal_number_is_refused_and_not_stored(
    client: TestClient, session: Session, field: str, value: str
) -> None:
    page = _post_page(
        client, {"employer_name": "Tuin", "place": "Naaldwijk", "what_happened": "x", field: value}
    )
    assert page.status_code == 422
    assert "Будь ласка, приберіть його" in page.text
    assert f'href="#{field}"' in page.text
    api = client.post(API, json=_body(**{field: value}))
    assert api.status_code == 422
    assert api.headers["content-type"].startswith(PROBLEM_JSON)
    assert [(e["field"], e["code"]) for e in api.json()["errors"]] == [(field, "personal_number")]
    assert "leave it out" in api.json()["errors"][0]["message"]
    assert _signals(session) == []
    audit = session.exec(select(AuditEvent.details)).scalars().all()
    assert "111222333" not in json.dumps(audit)


def test_a_phone_number_as_contact_is_accepted(client: TestClient, session: Session) -> None:
    # A phone number's last nine digits may pass the 11-test; in groups it is no BSN.
    response = client.post(API, json=_body(contact="+31 6 0000 0011, anna@example.org"))
    assert response.status_code == 202, response.text
    assert _signals(session)[0].contact == "+31 6 0000 0011, anna@example.org"


def test_a_page_post_without_the_csrf_token_is_refused(
    client: TestClient, session: Session
) -> None:
    response = client.post(PAGE, data={"place": "x", "what_happened": "y", "employer_name": "z"})
    assert response.status_code == 403
    assert _signals(session) == []


# --- the partner API --------------------------------------------------------------------------


def test_a_partner_sends_a_signal_without_an_account(client: TestClient, session: Session) -> None:
    response = client.post(
        API,
        json=_body(language="uk", contact="FairWork, case 12"),
        headers={"Accept-Language": "nl"},
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"status", "received_at", "what_happens_next"}
    assert body["status"] == "received"
    assert "Arbeidsinspectie" in body["what_happens_next"]
    [row] = _signals(session)
    assert (row.source, row.language, row.contact) == ("partner", "uk", "FairWork, case 12")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (_body(what_happened=None), "what_happened", "what_happened_required"),
        (_body(what_happened="   "), "what_happened", "what_happened_required"),
        (_body(employer_name=None), "employer_name", "employer_required"),
        (_body(place="p" * 101), "place", "too_long"),
        (_body(contact="c" * 201), "contact", "too_long"),
        (_body(kvk_number="ABCDEFGH"), "kvk_number", "invalid_kvk"),
        (_body(what_happened="a\u202eb"), "what_happened", "invisible_characters"),
        (_body(ip_address="10.0.0.1"), "ip_address", "extra_forbidden"),
        (_body(language="ukrainian"), "language", "string_pattern_mismatch"),
    ],
)
def test_the_api_refuses_bad_signals_with_problem_json(
    client: TestClient, session: Session, body: dict[str, Any], field: str, code: str
) -> None:
    response = client.post(API, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert _signals(session) == []


def test_the_api_refuses_a_large_body_before_reading_it(
    client: TestClient, session: Session
) -> None:
    big = _body(what_happened="x" * (signals.MAX_BODY_BYTES + 10))
    response = client.post(API, json=big)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    page = client.post(PAGE, data={"what_happened": "x" * (signals.MAX_BODY_BYTES + 10)})
    assert page.status_code == 413
    assert _signals(session) == []


def test_the_signal_api_is_in_the_openapi_document(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    operation = doc["paths"][API]["post"]
    assert "security" not in operation or operation["security"] == []
    assert {"202", "413", "422", "429"} <= set(operation["responses"])
    assert "personal number" in operation["description"]


# --- matching -------------------------------------------------------------------------------


def test_matching_by_kvk_joins_the_employers_open_case_that_flags_use(
    client: TestClient, session: Session, employer: EmployerWithKey
) -> None:
    flag = synthetic_flag(session, employer.employer)
    assert flag.case_id is not None
    assert (
        client.post(API, json=_body(employer_name=None, kvk_number="12345678")).status_code == 202
    )
    [row] = _signals(session)
    assert (row.case_id, row.matched_by) == (flag.case_id, "kvk")
    assert _case(session, flag.case_id).signals_unverified == 1


def test_matching_by_name_opens_the_case_a_later_flag_joins(
    client: TestClient, session: Session, employer: EmployerWithKey, other_employer: EmployerWithKey
) -> None:
    # "Kwekerij De Tuin B.V." as typed by someone else: case, dots and legal form differ.
    response = client.post(API, json=_body(employer_name="kwekerij de tuin bv"))
    assert response.status_code == 202
    [row] = _signals(session)
    assert (row.employer_id, row.matched_by) == (employer.employer.id, "name")
    case = _case(session, row.case_id)
    assert case.employer_id == employer.employer.id
    flag = synthetic_flag(session, employer.employer)
    assert flag.case_id == row.case_id  # one open case per employer, whoever opened it


def test_the_place_picks_between_employers_of_the_same_name(
    client: TestClient, session: Session
) -> None:
    first = make_employer(session, "11111111", "Bouw Bedrijf B.V.")
    second = make_employer(session, "22222222", "Bouw Bedrijf B.V.")
    second.employer.city = "Zwolle"
    session.add(second.employer)
    session.flush()
    assert (
        client.post(API, json=_body(employer_name="Bouw Bedrijf", place="zwolle")).status_code
        == 202
    )
    assert (
        client.post(API, json=_body(employer_name="Bouw Bedrijf", place="Utrecht")).status_code
        == 202
    )
    by_place, ambiguous = _signals(session)
    assert (by_place.employer_id, by_place.matched_by) == (second.employer.id, "name")
    assert (ambiguous.employer_id, ambiguous.matched_by) == (None, "none")
    assert first.employer.id not in {by_place.employer_id, ambiguous.employer_id}


def test_an_unmatched_signal_gets_a_case_of_its_own_that_later_ones_join(
    client: TestClient, session: Session, inspector: StaffWithKey
) -> None:
    assert (
        client.post(
            API, json=_body(employer_name="Koppelbaas Onbekend", kvk_number="99999999")
        ).status_code
        == 202
    )
    assert client.post(API, json=_body(employer_name="KOPPELBAAS onbekend")).status_code == 202
    assert client.post(API, json=_body(employer_name="Iemand Anders")).status_code == 202
    first, second, other = _signals(session)
    assert first.case_id == second.case_id != other.case_id
    case = _case(session, first.case_id)
    assert case.employer_id is None
    assert (case.reported_name, case.reported_kvk_number) == ("Koppelbaas Onbekend", "99999999")
    assert case.signals_unverified == 2
    # The inspector's queue, case and report show it by the reported name.
    queue = client.get("/api/v1/cases", headers=inspector.headers)
    assert queue.status_code == 200
    row = next(r for r in queue.json()["items"] if r["id"] == str(case.id))
    assert row["employer_id"] is None
    assert row["employer_registered"] is False
    assert (row["employer_name"], row["kvk_number"]) == ("Koppelbaas Onbekend", "99999999")
    # Cases with reports still to check can be picked out (their risk score is 0).
    with_reports = client.get("/api/v1/cases?unverified_signals=true", headers=inspector.headers)
    assert {r["id"] for r in with_reports.json()["items"]} == {str(case.id), str(other.case_id)}
    detail = client.get(f"/api/v1/cases/{case.id}", headers=inspector.headers)
    assert detail.status_code == 200
    assert len(detail.json()["signals"]) == 2
    report = client.get(f"/api/v1/cases/{case.id}/report.pdf", headers=inspector.headers)
    assert report.status_code == 200
    assert report.content.startswith(b"%PDF")


# --- the rate limit ---------------------------------------------------------------------------


def test_signals_are_rate_limited_per_sender_without_keeping_the_address(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    limiter = RateLimiter(RateLimitSettings(signals_per_address=3, _env_file=None))  # type: ignore[call-arg]
    app.state.rate_limiter = limiter
    for _ in range(3):
        assert client.post(API, json=_body()).status_code == 202
    refused = client.post(API, json=_body())
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(refused.headers["retry-after"]) > 0
    page = _post_page(client, {"employer_name": "Tuin", "place": "Naaldwijk", "what_happened": "x"})
    assert page.status_code == 429
    assert "забагато повідомлень" in page.text
    assert "0800 5151" in page.text
    assert len(_signals(session)) == 3
    # The window knows the sender only by a keyed hash.
    keys = set(limiter.signal_address._events)
    assert keys == {limiter.signal_sender("testclient")}
    assert "testclient" not in keys
    # Refused input does not count: a worker correcting the form is not locked out.
    limiter2 = RateLimiter(RateLimitSettings(signals_per_address=1, _env_file=None))  # type: ignore[call-arg]
    app.state.rate_limiter = limiter2
    assert client.post(API, json=_body(what_happened="")).status_code == 422
    assert client.post(API, json=_body()).status_code == 202


# --- who sees it ------------------------------------------------------------------------------

MARKER = "Onze chef dreigt ons paspoort af te pakken"


def test_the_employer_never_sees_a_signal(
    client: TestClient, session: Session, employer: EmployerWithKey
) -> None:
    from tests.security.test_access_matrix import documented_rules

    notification_id = notify(client, employer.headers, notification_body())
    assert (
        client.post(API, json=_body(kvk_number="12345678", what_happened=MARKER)).status_code == 202
    )
    [row] = _signals(session)
    case = _case(session, row.case_id)
    password = "correct horse battery staple"
    create_user(
        session,
        username="tuin_signal",
        display_name="Anna",
        role=Role.EMPLOYER,
        password=password,
        employer_id=employer.employer.id,
    )
    pages = TestClient(client.app, raise_server_exceptions=False)
    login = pages.post(
        "/login",
        data={
            "username": "tuin_signal",
            "password": password,
            "csrf_token": _csrf(pages, "/login"),
        },
        follow_redirects=False,
    )
    assert login.status_code == 303
    values = {"notification_id": notification_id}
    seen = 0
    for rule in documented_rules().values():
        if rule.method != "GET" or rule.outcomes["employer"] != "yes":
            continue
        if rule.path.startswith(("/docs", "/redoc", "/openapi", "/static", "/metrics")):
            continue
        names = re.findall(r"\{([a-z_]+)\}", rule.path)
        if any(n not in values for n in names):
            continue
        path = rule.path.format(**values)
        caller = client if rule.path.startswith("/api/") else pages
        response = caller.get(path, headers=employer.headers, follow_redirects=False)
        assert response.status_code < 500, path
        for secret in (MARKER, case.reference, str(row.id)):
            assert secret not in response.text, (path, secret)
        seen += 1
    assert seen >= 10
    for path in ("/api/v1/cases", f"/api/v1/cases/{case.id}"):
        assert client.get(path, headers=employer.headers).status_code == 403
    assert pages.get(f"/inspector/cases/{case.id}", follow_redirects=False).status_code == 403
    assert client.get(NOTIFICATIONS, headers=employer.headers).status_code == 200


def test_inspectors_see_signals_unverified_and_review_them(
    client: TestClient, session: Session, employer: EmployerWithKey, inspector: StaffWithKey
) -> None:
    assert (
        client.post(API, json=_body(kvk_number="12345678", what_happened=MARKER)).status_code == 202
    )
    [row] = _signals(session)
    detail = client.get(f"/api/v1/cases/{row.case_id}", headers=inspector.headers).json()
    assert detail["signals_unverified"] == 1
    [shown] = detail["signals"]
    assert (shown["status"], shown["what_happened"], shown["matched_by"]) == (
        "unverified",
        MARKER,
        "kvk",
    )
    assert "signal" in {e["kind"] for e in detail["timeline"]}
    review = f"/api/v1/cases/{row.case_id}/signals/{row.id}/review"
    done = client.post(review, json={"verdict": "unfounded"}, headers=inspector.headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "unfounded"
    assert _case(session, row.case_id).signals_unverified == 0
    again = client.post(review, json={"verdict": "verified"}, headers=inspector.headers)
    assert again.status_code == 409
    assert (
        client.post(review, json={"verdict": "unverified"}, headers=inspector.headers).status_code
        == 422
    )
    wrong_case = f"/api/v1/cases/{uuid.uuid4()}/signals/{row.id}/review"
    assert (
        client.post(wrong_case, json={"verdict": "verified"}, headers=inspector.headers).status_code
        == 404
    )
    events = (
        session.exec(select(AuditEvent).where(AuditEvent.action == "signal.reviewed"))
        .scalars()
        .all()
    )
    assert [e.details["verdict"] for e in events] == ["unfounded"]
    assert events[0].actor_id == f"user:{inspector.id}"
    assert MARKER not in json.dumps([e.details for e in events])


def test_employer_row_is_untouched_by_a_signal(
    client: TestClient, session: Session, employer: EmployerWithKey
) -> None:
    before = employer.employer.model_dump()
    client.post(API, json=_body(kvk_number="12345678", place="Elders", employer_name="Andere Naam"))
    session.expire_all()
    after = session.get(Employer, employer.employer.id)
    assert after is not None
    assert after.model_dump() == before
