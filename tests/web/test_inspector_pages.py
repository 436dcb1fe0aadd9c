"""The inspector's pages over TestClient, on SQLite and on PostgreSQL: roles, CSRF, the
queue's filters and keyset pages, the flag's actions (POST-redirect-GET), escaping, charts.

Each test gets a fresh, migrated database of its backend (a copied file for SQLite, a
`CREATE DATABASE ... TEMPLATE` for PostgreSQL), because the pages commit for real.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from meldplicht.accounts.models import Role, UserAccount
from meldplicht.accounts.service import create_user
from meldplicht.app import create_app
from meldplicht.audit.models import AuditEvent
from meldplicht.core.config import Environment, Settings
from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import upgrade
from meldplicht.employers.models import Employer
from meldplicht.flags.models import Flag, FlagNote, FlagStatus, Snooze
from meldplicht.rules.facts import Severity
from meldplicht.sweeps.models import SweepRun
from tests.conftest import PG_ADMIN_URL, drop_postgres, require_backend, unique_pg_name
from tests.factories import with_worker
from tests.inspection.conftest import synthetic_flag, underpaid_body
from tests.web.conftest import PASSWORD, Web, csrf_from, fresh_database, seed_accounts

QUEUE = "/inspector/"
ACTIONS = ("claim", "release", "investigate", "resolve", "notes", "assign", "reopen", "snooze")


# --- fixtures: a fresh database of each backend ------------------------------------------


@pytest.fixture(scope="module")
def pg_template() -> Iterator[str]:
    require_backend("postgres")
    name = unique_pg_name("meldplicht_webtpl")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    upgrade(f"{base}/{name}")
    yield name
    drop_postgres(name)


def _postgres_copy(template: str) -> tuple[str, str]:
    name = unique_pg_name("meldplicht_web")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return name, f"{base}/{name}"


@pytest.fixture(params=["sqlite", "postgres"])
def web(request: pytest.FixtureRequest, migrated_db: Path, tmp_path: Path) -> Iterator[Web]:
    pg_name = None
    if request.param == "sqlite":
        url = fresh_database(migrated_db, tmp_path)
    else:
        pg_name, url = _postgres_copy(request.getfixturevalue("pg_template"))
    engine = create_db_engine(url)
    settings = Settings(
        environment=Environment.TEST,
        database_url=url,
        _env_file=None,  # type: ignore[call-arg]
    )
    accounts = seed_accounts(engine)
    with Session(engine) as session, session.begin():
        create_user(
            session,
            username="chef",
            display_name="Carla Chef",
            role=Role.SUPERVISOR,
            password=PASSWORD,
        )
        create_user(
            session,
            username="bram",
            display_name="Bram Inspecteur",
            role=Role.INSPECTOR,
            password=PASSWORD,
        )
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as client:
        yield Web(client=client, engine=engine, accounts=accounts)
    engine.dispose()
    if pg_name:
        drop_postgres(pg_name)


# --- helpers ----------------------------------------------------------------------------------


def notify(web: Web, body: dict[str, Any]) -> None:
    response = web.client.post(
        "/api/v1/notifications",
        json=body,
        headers={"Authorization": f"Bearer {web.accounts.api_token}"},
    )
    assert response.status_code == 201, response.text


def underpaid_flag(web: Web, **worker: str) -> uuid.UUID:
    """A real BELOW_MINIMUM_WAGE flag, raised by the intake of a notification over the API."""
    body = underpaid_body()
    if worker:
        body = with_worker(body, **worker)
    notify(web, body)
    with Session(web.engine) as session:
        flag = session.exec(
            select(Flag)
            .where(Flag.rule_code == "BELOW_MINIMUM_WAGE")
            .order_by(col(Flag.first_seen_at).desc())
        ).first()
        assert flag is not None
        return flag.id


def synthetic_flags(web: Web, count: int, **kwargs: Any) -> list[uuid.UUID]:
    with Session(web.engine) as session, session.begin():
        employer = session.get(Employer, kwargs.pop("employer_id", web.accounts.employer_id))
        assert employer is not None
        return [synthetic_flag(session, employer, **kwargs).id for _ in range(count)]


def flag_row(web: Web, flag_id: uuid.UUID) -> Flag:
    with Session(web.engine) as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None
        return flag


def audit_actions(web: Web, flag_id: uuid.UUID) -> list[str]:
    with Session(web.engine) as session:
        return list(
            session.exec(
                select(AuditEvent.action)
                .where(AuditEvent.subject_id == str(flag_id))
                .order_by(col(AuditEvent.id))
            )
        )


def user_id(web: Web, username: str) -> uuid.UUID:
    with Session(web.engine) as session:
        account = session.exec(select(UserAccount).where(UserAccount.username == username)).one()
        return account.id


def post(web: Web, path: str, data: dict[str, str] | None = None, token: str | None = None) -> Any:
    if token is None:
        token = csrf_from(web.client.get(QUEUE).text)
    return web.client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=False)


def action(web: Web, flag_id: uuid.UUID, name: str, **data: str) -> Any:
    return post(web, f"/inspector/flags/{flag_id}/{name}", data)


def queue_ids(html: str) -> list[str]:
    return re.findall(r'<a href="/inspector/flags/([0-9a-f-]{36})">', html)


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        QUEUE,
        "/inspector/dashboard",
        "/inspector/flags/00000000-0000-4000-8000-000000000001",
        "/inspector/employers/1",
    ],
)
def test_anonymous_users_are_sent_to_sign_in(web: Web, path: str) -> None:
    response = web.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/inspector/")


def test_employers_are_refused_every_inspector_page_and_action(web: Web) -> None:
    flag_id = underpaid_flag(web)
    web.login("tuin")
    for path in (
        QUEUE,
        "/inspector/dashboard",
        f"/inspector/flags/{flag_id}",
        f"/inspector/employers/{web.accounts.employer_id}",
    ):
        response = web.client.get(path)
        assert response.status_code == 403, path
        assert "Geen toegang" in response.text
        assert "Kovalenko" not in response.text
    token = csrf_from(web.client.get("/employer/").text)
    response = post(web, f"/inspector/flags/{flag_id}/claim", token=token)
    assert response.status_code == 403
    assert flag_row(web, flag_id).status == FlagStatus.OPEN


def test_inspectors_and_supervisors_get_in(web: Web) -> None:
    for username in ("inspecteur", "chef"):
        web.client.cookies.clear()
        web.login(username)
        response = web.client.get(QUEUE)
        assert response.status_code == 200
        assert "<h1>Inspectie</h1>" in response.text


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*ACTIONS, "personal-data"])
def test_every_action_refuses_a_missing_or_wrong_csrf_token(web: Web, name: str) -> None:
    flag_id = underpaid_flag(web)
    web.login("chef")
    data = {
        "outcome": "no_violation",
        "note": "checked",
        "body": "a note",
        "assignee_id": str(user_id(web, "inspecteur")),
        "until": "2099-01-01",
        "reason": "a good reason",
    }
    before = audit_actions(web, flag_id)
    path = f"/inspector/flags/{flag_id}/{name}"
    for token in ("", "not-the-token"):
        response = web.client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 403
        assert "verlopen" in response.text
    missing = web.client.post(path, data=data)
    assert missing.status_code == 403
    # A right token from another origin is refused as well.
    token = csrf_from(web.client.get(QUEUE).text)
    foreign = web.client.post(
        path, data={**data, "csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert flag_row(web, flag_id).status == FlagStatus.OPEN
    assert audit_actions(web, flag_id) == before
    with Session(web.engine) as session:
        assert session.exec(select(func.count()).select_from(FlagNote)).one() == 0
        assert session.exec(select(func.count()).select_from(Snooze)).one() == 0


# --- the flag's workflow ---------------------------------------------------------------------


def test_claim_investigate_resolve_redirects_and_the_audit_trail_shows_each_step(web: Web) -> None:
    flag_id = underpaid_flag(web)
    web.login("inspecteur")
    page = f"/inspector/flags/{flag_id}"
    claimed = action(web, flag_id, "claim")
    assert claimed.status_code == 303
    assert claimed.headers["location"] == f"{page}?done=claimed"
    html = web.client.get(claimed.headers["location"]).text
    assert 'role="status">U hebt het signaal opgepakt.' in html
    assert action(web, flag_id, "investigate").headers["location"].endswith("done=investigating")
    assert action(web, flag_id, "notes", body="Gebeld met de werkgever.").status_code == 303
    resolved = action(web, flag_id, "resolve", outcome="violation_confirmed", note="Loonstrook.")
    assert resolved.headers["location"] == f"{page}?done=resolved"
    flag = flag_row(web, flag_id)
    assert flag.status == FlagStatus.RESOLVED
    assert flag.outcome == "violation_confirmed"
    html = web.client.get(page).text
    trail = html.split('id="audit-title"')[1]
    for step in ("Signaal geopend", "Opgepakt", "Onderzoek gestart", "Notitie toegevoegd"):
        assert step in trail
    assert "Afgehandeld" in trail
    assert "Overtreding bevestigd" in trail
    assert "Loonstrook." in trail
    assert "Gebeld met de werkgever." in html
    assert audit_actions(web, flag_id)[-4:] == [
        "flag.claimed",
        "flag.investigating",
        "flag.note_added",
        "flag.resolved",
    ]


def test_resolve_without_a_note_shows_the_inline_error_and_changes_nothing(web: Web) -> None:
    flag_id = underpaid_flag(web)
    web.login("inspecteur")
    action(web, flag_id, "claim")
    before = audit_actions(web, flag_id)
    response = action(web, flag_id, "resolve", outcome="no_violation", note="   ")
    assert response.status_code == 422
    html = response.text
    assert 'class="error-summary"' in html
    assert '<a href="#resolve-note">Toelichting: Schrijf op waarom' in html
    assert 'id="resolve-note-error1"' in html
    assert re.search(r'id="resolve-note" name="note"[^>]*aria-invalid="true"', html)
    assert '<option value="no_violation" selected>' in html  # what was chosen is kept
    flag = flag_row(web, flag_id)
    assert flag.status == FlagStatus.CLAIMED
    assert flag.outcome is None
    assert audit_actions(web, flag_id) == before


def test_a_conflict_is_an_error_message_on_the_flag_page(web: Web) -> None:
    flag_id = underpaid_flag(web)
    web.login("bram")
    action(web, flag_id, "claim")
    web.client.cookies.clear()
    web.login("inspecteur")
    response = action(web, flag_id, "claim")
    assert response.status_code == 409
    assert "Iemand anders heeft dit signaal al opgepakt" in response.text
    assert flag_row(web, flag_id).assignee_id == user_id(web, "bram")
    # An inspector may not release someone else's claim; the page does not offer it either.
    assert 'action="/inspector/flags/' + str(flag_id) + '/release"' not in response.text
    assert action(web, flag_id, "release").status_code == 409


def test_supervisor_assigns_and_snoozes_an_inspector_may_not(web: Web) -> None:
    flag_id = underpaid_flag(web)
    inge = str(user_id(web, "inspecteur"))
    web.login("inspecteur")
    assert 'action="/inspector/flags/' not in web.client.get(QUEUE).text  # no actions on queue
    assert action(web, flag_id, "assign", assignee_id=inge).status_code == 403
    assert action(web, flag_id, "snooze", until="2099-01-01", reason="test").status_code == 403
    web.client.cookies.clear()
    web.login("chef")
    html = web.client.get(f"/inspector/flags/{flag_id}").text
    assert f'<option value="{inge}">Inge Inspecteur' in html
    assert action(web, flag_id, "assign", assignee_id=inge).status_code == 303
    assert flag_row(web, flag_id).assignee_id == uuid.UUID(inge)
    refused = action(web, flag_id, "snooze", until="2000-01-01", reason="x")
    assert refused.status_code == 422
    assert 'id="snooze-until-error1"' in refused.text
    assert 'id="snooze-reason-error1"' in refused.text
    done = action(web, flag_id, "snooze", until="2099-01-01", reason="Controle loopt al")
    assert done.headers["location"].endswith("done=snoozed")
    assert flag_row(web, flag_id).snoozed_until is not None
    # Snoozed flags leave the default queue and come back with the checkbox.
    assert str(flag_id) not in queue_ids(web.client.get(QUEUE).text)
    assert str(flag_id) in queue_ids(web.client.get(f"{QUEUE}?include_snoozed=true").text)


def test_personal_data_needs_a_reason_and_is_audited(web: Web) -> None:
    flag_id = underpaid_flag(web)
    web.login("inspecteur")
    page = web.client.get(f"/inspector/flags/{flag_id}").text
    assert "******333" in page
    assert "111222333" not in page
    refused = action(web, flag_id, "personal-data", reason="")
    assert refused.status_code == 422
    assert 'id="pd-reason-error1"' in refused.text
    assert "111222333" not in refused.text
    assert "personal_data.viewed" not in audit_actions(web, flag_id)
    shown = action(web, flag_id, "personal-data", reason="Bezoek op locatie")
    assert shown.status_code == 200
    assert "111222333" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert "personal_data.viewed" in audit_actions(web, flag_id)
    inge = user_id(web, "inspecteur")
    with Session(web.engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "personal_data.viewed")
        ).one()
        assert event.details["reason"] == "Bezoek op locatie"
        assert event.actor_id == f"user:{inge}"


def test_the_evidence_is_laid_out_as_a_calculation(web: Web) -> None:
    flag_id = underpaid_flag(web)
    web.login("inspecteur")
    html = web.client.get(f"/inspector/flags/{flag_id}?lang=en").text
    calculation = html.split('class="calculation"')[1].split("</table>")[0]
    assert "Declared wage per hour at 38 hours a week" in calculation
    assert "EUR 9.00" in calculation
    assert "Statutory hourly minimum for age" in calculation
    assert "Shortfall per hour" in calculation
    assert "wml_hourly" in html  # the parameter with its reference
    assert "(60 + 0 + 0) x 1.4 = 84" in html  # the risk breakdown
    assert "Version 1" in html or "version 1" in html  # the notification's history


def test_the_arithmetic_is_shown_in_the_reader_s_language(web: Web) -> None:
    flag_id = underpaid_flag(web)
    web.login("inspecteur")
    dutch = web.client.get(f"/inspector/flags/{flag_id}?lang=nl").text
    assert '<p class="arithmetic" lang="nl">opgegeven uurloon = ' in dutch
    assert "Bedragen worden exact vergeleken" in dutch
    english = web.client.get(f"/inspector/flags/{flag_id}?lang=en").text
    assert '<p class="arithmetic" lang="en">declared hourly = ' in english
    assert "opgegeven uurloon" not in english


# --- the queue ----------------------------------------------------------------------------------


def test_queue_filters_and_keyset_pages_both_ways(web: Web) -> None:
    synthetic_flags(web, 27, rule="LATE_NOTICE", severity=Severity.MEDIUM)
    synthetic_flags(web, 2, rule="HOURS_ABOVE_48", severity=Severity.MEDIUM, postcode="9711 AA")
    high = synthetic_flags(web, 1, rule="UNDERAGE_WORK", severity=Severity.HIGH)
    web.login("inspecteur")
    first = web.client.get(QUEUE).text
    first_ids = queue_ids(first)
    assert len(first_ids) == 25
    assert first_ids[0] == str(high[0])  # highest risk first
    assert 'rel="prev"' not in first
    next_href = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert next_href
    second = web.client.get(next_href.group(1).replace("&amp;", "&")).text
    second_ids = queue_ids(second)
    assert len(second_ids) == 5
    assert not set(first_ids) & set(second_ids)
    prev_href = re.search(r'<a href="([^"]+)" rel="prev">', second)
    assert prev_href
    back = web.client.get(prev_href.group(1).replace("&amp;", "&")).text
    assert queue_ids(back) == first_ids

    by_rule = queue_ids(web.client.get(f"{QUEUE}?rule=HOURS_ABOVE_48").text)
    assert len(by_rule) == 2
    assert len(queue_ids(web.client.get(f"{QUEUE}?province=Groningen").text)) == 2
    assert queue_ids(web.client.get(f"{QUEUE}?severity=high").text) == [str(high[0])]
    assert queue_ids(web.client.get(f"{QUEUE}?employer=87654321").text) == []
    assert len(queue_ids(web.client.get(f"{QUEUE}?employer=12345678&sort=age").text)) == 25
    action(web, high[0], "claim")
    assert queue_ids(web.client.get(f"{QUEUE}?assignee=me").text) == [str(high[0])]
    assert str(high[0]) not in queue_ids(web.client.get(f"{QUEUE}?assignee=none").text)
    claimed = web.client.get(f"{QUEUE}?status=claimed").text
    assert queue_ids(claimed) == [str(high[0])]
    assert '<option value="claimed" selected>' in claimed


def test_a_bad_filter_is_shown_on_its_field_and_the_queue_still_shows(web: Web) -> None:
    synthetic_flags(web, 1)
    web.login("inspecteur")
    html = web.client.get(f"{QUEUE}?employer=abc&first_seen_from=2026-02-30").text
    assert '<a href="#employer">Werkgever: Geef een KvK-nummer' in html
    assert 'id="employer-error1"' in html
    assert 'id="first_seen_from-error1"' in html
    assert len(queue_ids(html)) == 1
    # A cursor from other filters starts again at the first page instead of failing.
    response = web.client.get(f"{QUEUE}?cursor=bm9uc2Vuc2U")
    assert response.status_code == 200
    assert "De paginalink past niet meer" in response.text


def test_queue_page_in_english(web: Web) -> None:
    synthetic_flags(web, 1)
    web.login("inspecteur")
    html = web.client.get(f"{QUEUE}?lang=en").text
    assert '<html lang="en">' in html
    assert "Highest risk first" in html
    assert "Notification too late" in html


# --- escaping, the employer page, the dashboard -------------------------------------------------


def test_names_from_the_data_render_as_text(web: Web) -> None:
    flag_id = underpaid_flag(web, given_names="<script>alert(1)</script>", surname="<b>X</b>")
    with Session(web.engine) as session, session.begin():
        employer = session.get(Employer, web.accounts.employer_id)
        assert employer is not None
        employer.name = "<script>alert('werkgever')</script>"
        session.add(employer)
        for flag in session.exec(select(Flag)):
            flag.sector = "<script>sector</script>"
            session.add(flag)
    web.login("inspecteur")
    for path in (
        f"/inspector/flags/{flag_id}",
        QUEUE,
        f"/inspector/employers/{web.accounts.employer_id}",
        "/inspector/dashboard",
    ):
        html = web.client.get(path).text
        assert "<script" not in html, path
        assert "&lt;script&gt;" in html, path
    flag_html = web.client.get(f"/inspector/flags/{flag_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;X&lt;/b&gt;" in flag_html


def test_employer_page_groups_active_flags_by_rule(web: Web) -> None:
    late = synthetic_flags(web, 3, rule="LATE_NOTICE")
    synthetic_flags(web, 1, rule="UNDERAGE_WORK", severity=Severity.HIGH)
    web.login("inspecteur")
    action(web, late[0], "claim")
    action(web, late[0], "resolve", outcome="no_violation", note="In orde.")
    html = web.client.get("/inspector/employers/12345678").text
    assert "<h1>Kwekerij De Tuin B.V.</h1>" in html
    rules = html.split('id="rules-title"')[1].split('id="outcomes-title"')[0]
    assert rules.index("Werk door een kind jonger dan 13") < rules.index("Melding te laat")
    assert "<dt>Signalen</dt><dd>2</dd>" in rules  # the two still active late notices
    outcomes = html.split('id="outcomes-title"')[1]
    assert re.search(r"Geen overtreding</td><td class=\"num\">1</td>", outcomes)
    assert f"/inspector/flags/{late[0]}" in outcomes
    assert web.client.get("/inspector/employers/99999999").status_code == 404


def test_dashboard_charts_are_svg_with_numbers_and_a_table(web: Web) -> None:
    synthetic_flags(web, 3, rule="LATE_NOTICE", postcode="9711 AA")
    done = synthetic_flags(web, 2, rule="UNDERAGE_WORK", severity=Severity.HIGH)
    web.login("inspecteur")
    for flag_id in done:
        action(web, flag_id, "claim")
    action(web, done[0], "resolve", outcome="violation_confirmed", note="Bevestigd.")
    action(web, done[1], "resolve", outcome="no_violation", note="Niet bevestigd.")
    response = web.client.get("/inspector/dashboard")
    assert response.status_code == 200
    html = response.text
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) == 9  # five of flags, four of cases
    for svg in svgs:
        assert 'role="img"' in svg
        assert "<title id=" in svg
        assert "<desc id=" in svg
        assert "aria-labelledby=" in svg
    assert " style=" not in html  # the CSP forbids inline style
    rule_chart = next(s for s in svgs if 'id="chart-rule"' in s)
    assert 'font-weight="700">3</text>' in rule_chart
    assert "Melding te laat" in rule_chart
    province = next(s for s in svgs if 'id="chart-province"' in s)
    assert "Groningen" in province
    precision = next(s for s in svgs if 'id="chart-precision"' in s)
    assert "50% (1 van 2)" in precision
    weekly = next(s for s in svgs if 'id="chart-weekly"' in s)
    assert 'font-weight="700">5</text>' in weekly  # five opened this week
    assert 'font-weight="700">2</text>' in weekly  # two resolved this week
    assert "<details" in html
    assert "<summary>Toon de getallen als tabel</summary>" in html
    assert "Nog geen controlerondes." in html
    with Session(web.engine) as session, session.begin():
        session.add(
            SweepRun(
                as_of=date(2026, 3, 2),
                mode="full",
                status="failed",
                trigger="scheduler",
                counts={"evaluated": 1200, "opened": 7, "cleared": 2, "reopened": 0},
                errors=[{"error": "x"}],
            )
        )
    sweeps = web.client.get("/inspector/dashboard").text.split('id="sweeps-title"')[1]
    assert "2 maart 2026" in sweeps
    assert "mislukt" in sweeps
    assert "beoordeeld: 1200, geopend: 7, vervallen: 2, heropend: 0" in sweeps


def test_inspector_pages_ship_no_script_or_inline_style(web: Web) -> None:
    flag_id = underpaid_flag(web)
    web.login("chef")
    for path in (
        QUEUE,
        f"/inspector/flags/{flag_id}",
        f"/inspector/employers/{web.accounts.employer_id}",
        "/inspector/dashboard",
    ):
        response = web.client.get(path)
        assert response.status_code == 200, path
        assert "<script" not in response.text
        assert " style=" not in response.text
        assert "style-src 'self'" in response.headers["content-security-policy"]
