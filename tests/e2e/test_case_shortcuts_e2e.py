"""The case queue's keyboard shortcuts in a real browser (a static script under the CSP), and
the same work without JavaScript: the shortcuts only enhance the links and forms.

Two cases, made the production way: each employer sends an underpaid notification with its
own API key and intake raises the flags that open the case.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from meldplicht.accounts.models import Role
from meldplicht.accounts.service import issue_key
from meldplicht.core.db import create_db_engine
from tests.e2e.conftest import Server, sign_in
from tests.factories import VALID_BSNS, notification_body, with_worker

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def two_cases(server: Server) -> None:
    engine = create_db_engine(server.database_url)
    with Session(engine) as session, session.begin():
        other = issue_key(
            session, role=Role.EMPLOYER, name="snel", employer_id=server.accounts.other_employer_id
        ).token
    engine.dispose()
    for token, bsn, wage in (
        (server.accounts.api_token, VALID_BSNS[0], "9.00"),
        (other, VALID_BSNS[1], "11.00"),
    ):
        body = notification_body(start_date="2026-07-06", end_date="2026-08-02")
        body["hours_per_week"] = "40"
        body["wage"] = {"amount": wage, "period": "hour", "includes_holiday_allowance": False}
        response = httpx.post(
            f"{server.base_url}/api/v1/notifications",
            json=with_worker(body, bsn=bsn),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text


def test_j_twice_and_enter_open_the_second_case_and_c_claims_it(
    page: Page, two_cases: None
) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "inspecteur")
    page.goto("/inspector/cases?sort=back_pay")
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#shortcut-hint")).to_be_visible()  # shown by the script only
    second = rows.nth(1).locator("a").first
    second_name = second.inner_text()
    second_href = second.get_attribute("href")
    assert second_href
    # Typing in a field is left alone: j goes into the field, no row is chosen.
    page.fill("#view-name", "")
    page.focus("#view-name")
    page.keyboard.press("j")
    expect(page.locator("#view-name")).to_have_value("j")
    expect(page.locator("tr.row-current")).to_have_count(0)
    page.fill("#view-name", "")
    page.locator("h1").click()  # back to the page itself
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\brow-current\b"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile(r"\brow-current\b"))
    expect(rows.nth(0)).not_to_have_class(re.compile(r"\brow-current\b"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{second_href}")
    expect(page.locator("h1")).to_contain_text(second_name)
    expect(page.locator("#case-status")).to_have_text("Open")
    page.keyboard.press("c")
    expect(page.locator("[role=status]")).to_contain_text("De zaak is nu van u.")
    expect(page.locator("#case-status")).to_have_text("In behandeling")
    # k and the arrows go back up; o opens too.
    page.goto("/inspector/cases?sort=back_pay")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile(r"\brow-current\b"))
    first_href = rows.nth(0).locator("a").first.get_attribute("href")
    page.keyboard.press("o")
    page.wait_for_url(f"**{first_href}")
    assert errors == []  # no CSP violation, no script error


def test_the_queue_and_a_claim_work_without_javascript(
    browser: Browser, server: Server, two_cases: None
) -> None:
    context = browser.new_context(
        base_url=server.base_url, java_script_enabled=False, locale="nl-NL"
    )
    try:
        page = context.new_page()
        sign_in(page, "inspecteur")
        page.goto("/inspector/cases?sort=risk")
        expect(page.locator("#shortcut-hint")).to_be_hidden()
        page.select_option("#status", "open")
        page.click("button >> text=Toon zaken")
        rows = page.locator("table.queue tbody tr")
        expect(page.locator("#results-title")).to_have_text(re.compile(r"^\d+ za(ak|ken)$"))
        rows.first.locator("a").first.click()
        page.click("button >> text=Zaak in behandeling nemen")
        expect(page.locator("[role=status]")).to_contain_text("De zaak is nu van u.")
        page.click("button >> text=Terugzetten")  # leave the case as it was for other tests
        expect(page.locator("[role=status]")).to_contain_text("weer in de wachtrij")
    finally:
        context.close()
