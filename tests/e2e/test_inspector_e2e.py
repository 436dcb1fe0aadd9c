"""The inspector's workbench in a real browser: sign in, filter, open, claim, resolve, the audit
trail, the language switch on the queue, the employer page, the dashboard, and refusal.

Flags are raised the way production raises them: notifications sent over the API by the
seeded employer's key, whose intake finds an underpaid wage and a late notice.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from meldplicht.core.clock import today
from meldplicht.flags.geo import PROVINCES
from meldplicht.rules import wages
from tests.e2e.conftest import Server, screenshot, sign_in
from tests.e2e.test_access_and_language import SAME_IN_BOTH, texts
from tests.factories import START, VALID_BSNS, notification_body, with_worker
from tests.inspection.conftest import underpaid_body

pytestmark = pytest.mark.browser

# Data shown on the queue that is the same in both languages (names, places, numbers), and
# "Open" and "Sector", words that Dutch and English share.
DATA = {
    "Kwekerij De Tuin B.V.",
    "Glastuinbouw",
    "Zuid-Holland",
    "Inge Inspecteur",
    "Open",
    "Sector",
    *PROVINCES,  # the province filter's options
}


def notify(server: Server, body: dict[str, Any]) -> None:
    response = httpx.post(
        f"{server.base_url}/api/v1/notifications",
        json=body,
        headers={"Authorization": f"Bearer {server.accounts.api_token}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def flags(server: Server) -> None:
    """Two underpaid workers (high) and two late notices (medium) at one employer."""
    for bsn in VALID_BSNS[:2]:
        notify(server, with_worker(underpaid_body(bsn), surname=f"Underpaid {bsn[-3:]}"))
    for bsn in VALID_BSNS[2:4]:
        late = notification_body(
            start_date=(today() + timedelta(days=1)).isoformat(), end_date=None
        )
        notify(server, with_worker(late, bsn=bsn, surname=f"Late {bsn[-3:]}"))


def test_inspector_filters_opens_claims_and_resolves_a_flag(
    page: Page, flags: None, server: Server
) -> None:
    sign_in(page, "inspecteur")
    expect(page.locator("h1")).to_have_text("Inspectie")
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(4)
    screenshot(page, "20-inspector-queue")

    page.select_option("#rule", "BELOW_MINIMUM_WAGE")
    page.click("button >> text=Toon signalen")
    expect(rows).to_have_count(2)
    assert "rule=BELOW_MINIMUM_WAGE" in page.url
    expect(page.locator("#rule")).to_have_value("BELOW_MINIMUM_WAGE")

    page.locator("table.queue tbody tr").first.locator("a").first.click()
    expect(page.locator("h1")).to_have_text("Loon onder het wettelijk minimumloon")
    expect(page.locator("table.calculation")).to_contain_text("Tekort per uur")
    # 9.00 an hour against the minimum for the start date (born 1995, so 21 or older).
    minimum = wages.minimum_hourly_wage(30, START).hourly
    expect(page.locator("table.calculation")).to_contain_text(wages.eur_nl(minimum - 9))
    screenshot(page, "21-inspector-flag")

    page.click("button >> text=Oppakken")
    expect(page.locator(".notice--success")).to_have_text("U hebt het signaal opgepakt.")

    # Resolving without a note is refused on the field, and nothing changes.
    page.select_option("#resolve-outcome", "violation_confirmed")
    page.click("button >> text=Afhandelen")
    expect(page.locator(".error-summary")).to_contain_text("Schrijf op waarom")
    expect(page.locator("#resolve-note-error1")).to_be_visible()
    expect(page.locator("#resolve-outcome")).to_have_value("violation_confirmed")
    screenshot(page, "22-inspector-resolve-error")

    page.fill("#resolve-note", "Loonstroken opgevraagd: onderbetaling bevestigd.")
    page.click("button >> text=Afhandelen")
    expect(page.locator(".notice--success")).to_have_text("Het signaal is afgehandeld.")
    expect(page.locator(".flag-head")).to_contain_text("Overtreding bevestigd")
    trail = page.locator("ol.audit > li")
    actions = [trail.nth(i).get_attribute("data-action") for i in range(trail.count())]
    assert actions[-2:] == ["flag.claimed", "flag.resolved"]
    expect(trail.nth(trail.count() - 2)).to_contain_text("Opgepakt")
    expect(trail.nth(trail.count() - 2)).to_contain_text("Inge Inspecteur")
    expect(trail.last).to_contain_text("Afgehandeld")
    expect(trail.last).to_contain_text("onderbetaling bevestigd")
    screenshot(page, "23-inspector-flag-resolved")

    page.click(".flag-head a")  # the employer
    expect(page.locator("h1")).to_have_text("Kwekerij De Tuin B.V.")
    expect(page.locator("#rules-title")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Melding te laat")
    screenshot(page, "24-inspector-employer")

    page.click(".sub-nav >> text=Overzicht")
    expect(page.locator("h1")).to_have_text("Overzicht")
    expect(page.locator("svg.chart")).to_have_count(9)  # five flag charts, four case charts
    screenshot(page, "25-inspector-dashboard")
    page.locator("#rule-title ~ details summary").click()
    expect(page.locator("#rule-title ~ details table")).to_be_visible()


def test_language_switch_changes_every_visible_text_on_the_queue(page: Page, flags: None) -> None:
    sign_in(page, "inspecteur")
    dutch = texts(page, "/inspector/", "nl")
    english = texts(page, "/inspector/", "en")
    assert len(dutch) == len(english)
    unchanged = {
        nl
        for nl, en in zip(dutch, english, strict=True)
        if nl == en and not re.fullmatch(r"[\d\s.,]+", nl)
    }
    unchanged -= SAME_IN_BOTH | DATA
    assert not unchanged, f"texts that do not follow the language: {sorted(unchanged)}"
    screenshot(page, "26-inspector-queue-en")
    page.goto("/inspector/?lang=nl")


def test_keyboard_reaches_the_filters_and_the_first_flag(page: Page, flags: None) -> None:
    sign_in(page, "inspecteur")
    # Start from the top of the page, with the page itself focused, as after a fresh load.
    page.bring_to_front()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**#main")  # the skip link has moved the focus point before the next Tab
    page.keyboard.press("Tab")
    # Poll: the browser moves focus after the key event is handled.
    page.wait_for_function("document.activeElement && document.activeElement.closest('main')")


def test_employer_is_refused_the_inspector_pages(page: Page, flags: None) -> None:
    sign_in(page)  # the employer "tuin"
    for path in ("/inspector/", "/inspector/dashboard", "/inspector/employers/12345678"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 403
        expect(page.locator("h1")).to_have_text("Geen toegang")
    expect(page.locator("main")).not_to_contain_text("Underpaid")


def test_anonymous_visitor_is_sent_to_sign_in(page: Page) -> None:
    page.goto("/inspector/dashboard")
    expect(page.locator("h1")).to_have_text("Inloggen")
    sign_in_form = page.locator("input[name=next]")
    assert sign_in_form.get_attribute("value") == "/inspector/dashboard"
