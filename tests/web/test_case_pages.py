# ruff: noqa: F811 - the `web` fixture is imported from the inspector page tests
"""Working the case queue on the pages (SQLite and PostgreSQL): saved views, the dashboard's
case charts that open the filtered queue, supervisor assignment, wording, the shortcut script.
"""

from __future__ import annotations

import html as html_lib
import re
import uuid
from datetime import timedelta

from sqlmodel import Session, col, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import today
from meldplicht.employers.models import Employer
from meldplicht.inspection.models import Case, CaseStatus, CaseView
from meldplicht.rules.facts import Severity
from tests.inspection.conftest import synthetic_flag
from tests.web.conftest import Web, csrf_from
from tests.web.test_inspector_pages import (  # noqa: F401 - fixtures
    pg_template,
    underpaid_flag,
    user_id,
    web,
)

CASES = "/inspector/cases"


def post(w: Web, path: str, data: dict[str, str] | list[tuple[str, str]]) -> object:
    token = csrf_from(w.client.get(CASES).text)
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    form: dict[str, list[str]] = {"csrf_token": [token]}
    for key, value in fields:
        form.setdefault(key, []).append(value)
    return w.client.post(path, data=form, follow_redirects=False)


def view_links(page: str) -> dict[str, str]:
    section = page.split('id="views-title"')[1].split("</section>")[0]
    return {
        html_lib.unescape(name): html_lib.unescape(href)
        for href, name in re.findall(r'<li><a href="([^"]+)"[^>]*>([^<]+)</a>', section)
    }


def result_count(page: str) -> str:
    match = re.search(r'<h2 id="results-title">([^<]+)</h2>', page)
    assert match
    return match.group(1)


def test_an_inspector_saves_opens_and_deletes_a_view_of_the_queue(web: Web) -> None:
    underpaid_flag(web)
    web.login("inspecteur")
    page = web.client.get(f"{CASES}?severity=high&sort=back_pay").text
    assert "U hebt nog geen weergaven opgeslagen." in page
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    assert hidden["severity"] == "high"
    assert hidden["sort"] == "back_pay"
    saved = post(web, f"{CASES}/views", {**hidden, "name": "Hoog — Київ"})
    assert saved.status_code == 303  # type: ignore[attr-defined]
    target = saved.headers["location"]  # type: ignore[attr-defined]
    assert target == f"{CASES}?severity=high&sort=back_pay&done=view_saved"
    page = web.client.get(target).text
    assert "De weergave is opgeslagen." in page
    assert view_links(page) == {"Hoog — Київ": f"{CASES}?severity=high&sort=back_pay"}
    assert 'aria-current="true">Hoog — Київ</a>' in page  # the page shows that view now
    # Opening it (its link) gives the same queue; on the plain queue it is not current.
    plain = web.client.get(CASES).text
    assert 'aria-current="true">Hoog —' not in plain
    opened = web.client.get(view_links(plain)["Hoog — Київ"]).text
    assert 'id="severity"' in opened
    assert '<option value="high" selected>' in opened
    assert '<option value="back_pay" selected>' in opened

    with Session(web.engine) as session:
        view = session.exec(select(CaseView)).one()
    # Bram neither sees nor deletes Inge's view.
    web.client.post("/logout", data={"csrf_token": csrf_from(plain)})
    web.login("bram")
    assert view_links(web.client.get(CASES).text) == {}
    assert post(web, f"{CASES}/views/{view.id}/delete", {}).status_code == 404  # type: ignore[attr-defined]
    web.client.post("/logout", data={"csrf_token": csrf_from(web.client.get(CASES).text)})
    web.login("inspecteur")
    deleted = post(web, f"{CASES}/views/{view.id}/delete", {})
    assert deleted.status_code == 303  # type: ignore[attr-defined]
    page = web.client.get(deleted.headers["location"]).text  # type: ignore[attr-defined]
    assert "De weergave is verwijderd." in page
    assert view_links(page) == {}
    with Session(web.engine) as session:
        audited = session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.subject_id == str(view.id))
            .order_by(col(AuditEvent.id))
        ).all()
    assert list(audited) == ["case.view_saved", "case.view_deleted"]


def test_a_bad_view_name_is_shown_on_the_field_and_the_filter_is_kept(web: Web) -> None:
    underpaid_flag(web)
    web.login("inspecteur")
    response = post(web, f"{CASES}/views", {"name": "x" * 81, "due": "overdue", "sort": "age"})
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = response.text  # type: ignore[attr-defined]
    assert 'role="alert"' in page
    assert "ten hoogste 80 tekens" in page
    assert 'aria-invalid="true"' in page
    assert '<option value="overdue" selected>' in page
    assert '<option value="age" selected>' in page
    with Session(web.engine) as session:
        assert session.exec(select(CaseView)).all() == []


def test_the_queue_counts_one_case_in_the_singular_and_the_button_names_cases(web: Web) -> None:
    underpaid_flag(web)
    web.login("inspecteur")
    page = web.client.get(CASES).text
    assert result_count(page) == "1 zaak"
    assert '<button type="submit" class="button">Toon zaken</button>' in page
    assert "Toon signalen" not in page
    english = web.client.get(CASES, headers={"Accept-Language": "en"}).text
    assert result_count(english) == "1 case"
    assert ">Show cases</button>" in english
    assert result_count(web.client.get(f"{CASES}?status=closed").text) == "0 zaken"


def test_the_dashboard_case_charts_open_a_queue_of_the_same_count(web: Web) -> None:
    with Session(web.engine) as session, session.begin():
        tuin = session.get(Employer, web.accounts.employer_id)
        snel = session.get(Employer, web.accounts.other_employer_id)
        assert tuin is not None
        assert snel is not None
        synthetic_flag(session, tuin, severity=Severity.HIGH, postcode="9711 AA")
        synthetic_flag(session, snel, severity=Severity.LOW, postcode="2671 AB")
        session.flush()
        overdue = session.exec(select(Case).where(Case.employer_id == tuin.id)).one()
        overdue.due_on = today() - timedelta(days=3)
        session.add(overdue)
    web.login("inspecteur")
    page = web.client.get("/inspector/dashboard").text
    links = re.findall(
        r'<a href="(/inspector/cases\?[^"]+)"[^>]*>\s*<text[^>]*>([^<]+)</text>.*?'
        r'font-weight="700">(\d+)</text>',
        page,
        flags=re.S,
    )
    seen = {html_lib.unescape(href) for href, _, _ in links}
    for expected in ("severity=high", "severity=low", "due=overdue", "province=Groningen"):
        assert any(expected in h for h in seen), expected
    assert any("sector=" in h for h in seen)
    for href, _label, figure in links:
        queue = web.client.get(html_lib.unescape(href)).text
        count = int(result_count(queue).split()[0])
        assert count == int(figure), href
        rows = re.findall(r'<tr data-case="', queue)
        assert len(rows) == count, href
    # The figures add up: two active cases, one high and one low.
    assert {html_lib.unescape(h): int(n) for h, _, n in links}[
        next(h for h in seen if "severity=high" in h)
    ] == 1


def test_a_supervisor_assigns_cases_on_a_page_an_inspector_may_not(web: Web) -> None:
    with Session(web.engine) as session, session.begin():
        for employer_id in (web.accounts.employer_id, web.accounts.other_employer_id):
            employer = session.get(Employer, employer_id)
            assert employer is not None
            synthetic_flag(session, employer)
    with Session(web.engine) as session:
        cases = session.exec(select(Case).order_by(col(Case.reference))).all()
    bram = user_id(web, "bram")
    web.login("inspecteur")
    assert web.client.get(f"{CASES}/assign").status_code == 403
    refused = post(
        web, f"{CASES}/assign", [("case_id", str(cases[0].id)), ("assignee_id", str(bram))]
    )
    assert refused.status_code == 403  # type: ignore[attr-defined]
    web.client.post("/logout", data={"csrf_token": csrf_from(web.client.get(CASES).text)})

    web.login("chef")
    page = web.client.get(f"{CASES}/assign").text
    for case in cases:
        assert f'value="{case.id}"' in page
    assert "Bram Inspecteur" in page
    # One case by its own select, then both at once with the bulk form.
    one = post(web, f"{CASES}/assign", [(f"assignee_{cases[0].id}", str(bram))])
    assert one.status_code == 303  # type: ignore[attr-defined]
    with Session(web.engine) as session:
        first = session.get(Case, cases[0].id)
        assert first is not None
        assert first.assignee_id == bram
        assert first.status == CaseStatus.CLAIMED
    inge = user_id(web, "inspecteur")
    bulk = post(
        web,
        f"{CASES}/assign",
        [("case_id", str(c.id)) for c in cases] + [("assignee_id", str(inge))],
    )
    assert bulk.status_code == 303  # type: ignore[attr-defined]
    done = web.client.get(bulk.headers["location"]).text  # type: ignore[attr-defined]
    assert "2 zaken toegewezen." in done
    with Session(web.engine) as session:
        assert {c.assignee_id for c in session.exec(select(Case)).all()} == {inge}
        assigned = session.exec(
            select(AuditEvent).where(AuditEvent.action == "case.assigned")
        ).all()
    assert len(assigned) == 3
    assert all(e.actor_id == f"user:{user_id(web, 'chef')}" for e in assigned)
    # Nothing chosen, or an unknown person: an error on the page, nothing changes.
    nothing = post(web, f"{CASES}/assign", [("assignee_id", str(bram))])
    assert nothing.status_code == 422  # type: ignore[attr-defined]
    unknown = post(
        web, f"{CASES}/assign", [("case_id", str(cases[0].id)), ("assignee_id", str(uuid.uuid4()))]
    )
    assert unknown.status_code in (404, 422)  # type: ignore[attr-defined]
    with Session(web.engine) as session:
        assert {c.assignee_id for c in session.exec(select(Case)).all()} == {inge}


def test_case_pages_load_only_the_shortcut_script_from_self(web: Web) -> None:
    underpaid_flag(web)
    web.login("inspecteur")
    queue = web.client.get(CASES)
    case_id = re.findall(r'<a href="/inspector/cases/([0-9a-f-]{36})"', queue.text)[0]
    for response in (queue, web.client.get(f"{CASES}/{case_id}")):
        body = response.text
        scripts = re.findall(r"<script[^>]*>", body)
        assert scripts == ['<script src="/static/shortcuts.js" defer></script>'[:-9]]
        assert "<script>" not in body
        assert not re.search(r"\son[a-z]+=", body)  # no inline handlers
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "unsafe-inline" not in response.headers["content-security-policy"]
    script = web.client.get("/static/shortcuts.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


def test_counts_take_the_plural_form_of_each_language() -> None:
    from meldplicht.web import i18n

    nl, en, uk = (i18n.Translator(lang) for lang in ("nl", "en", "uk"))
    assert [nl.plural("cases.results", n) for n in (0, 1, 2)] == ["0 zaken", "1 zaak", "2 zaken"]
    assert [en.plural("cases.results", n) for n in (1, 2)] == ["1 case", "2 cases"]
    assert [uk.plural("cases.results", n) for n in (1, 2, 5, 11, 21, 22, 25)] == [
        "1 справа",
        "2 справи",
        "5 справ",
        "11 справ",
        "21 справа",
        "22 справи",
        "25 справ",
    ]
    assert nl.plural("cases.days", 1) == "1 dag"


def test_the_pages_say_when_the_risk_score_was_computed(web: Web) -> None:
    flag_id = underpaid_flag(web)
    web.login("inspecteur")
    with Session(web.engine) as session:
        case = session.exec(select(Case)).one()
    day = f"{today().day} "
    cases = web.client.get(CASES).text
    assert "Risicoscore berekend op " + day in cases
    case_page = web.client.get(f"{CASES}/{case.id}").text
    assert 'id="case-risk-computed">Risicoscore berekend op ' + day in case_page
    queue = web.client.get("/inspector/").text
    assert "Risicoscore berekend op " + day in queue
    flag_page = web.client.get(f"/inspector/flags/{flag_id}?lang=en").text
    assert 'id="flag-risk-computed">Risk score computed on ' + day in flag_page
