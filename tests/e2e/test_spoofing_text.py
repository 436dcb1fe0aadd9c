"""Text that hides or reverses itself, refused on the page in a real browser, and a Cyrillic
name kept exactly as typed (issue 16, free text).

An inspector's resolve note of only a zero-width space, and an employer's notification with a
right-to-left override (U+202E) in a name: both refused with a visible error on the field, and
nothing stored. A Cyrillic name with letters that have a decomposed form arrives on the receipt
and on the detail page code point for code point.
"""

from __future__ import annotations

import unicodedata

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, sign_in
from tests.e2e.test_employer_flow import fill_notification
from tests.e2e.test_inspector_e2e import flags  # noqa: F401  (the module's flags fixture)
from tests.factories import VALID_BSNS
from tests.web.conftest import form_values

pytestmark = pytest.mark.browser

RLO = "\u202e"
ZWSP = "\u200b"
# NFC already: "й" and "ї" are single code points here (U+0439, U+0457).
GIVEN = "Йосип Андрій"
SURNAME = "Ковальчук-Їжакевич"


def test_resolve_note_of_only_a_zero_width_space_is_refused(
    page: Page,
    flags: None,  # noqa: F811
    server: Server,
) -> None:
    sign_in(page, "inspecteur")
    page.locator("table.queue tbody tr").first.locator("a").first.click()
    page.click("button >> text=Oppakken")
    expect(page.locator(".notice--success")).to_have_text("U hebt het signaal opgepakt.")
    page.select_option("#resolve-outcome", "violation_confirmed")
    page.fill("#resolve-note", ZWSP)
    page.click("button >> text=Afhandelen")
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#resolve-note-error1")).to_be_visible()
    expect(page.locator("#resolve-note-error1")).to_contain_text("zichtbare")
    trail = page.locator("ol.audit > li")
    actions = [trail.nth(i).get_attribute("data-action") for i in range(trail.count())]
    assert "flag.resolved" not in actions
    expect(page.locator(".flag-head")).not_to_contain_text("Overtreding bevestigd")


def test_name_with_a_right_to_left_override_is_refused_and_cyrillic_kept(page: Page) -> None:
    assert unicodedata.is_normalized("NFC", GIVEN + SURNAME)
    sign_in(page)
    page.click("text=Nieuwe melding >> nth=0")
    values = form_values(worker_bsn=VALID_BSNS[1], worker_surname=f"Kov{RLO}alchuk")
    values.update(worker_given_names_original=GIVEN, worker_surname_original=SURNAME)
    fill_notification(page, values)
    page.click("button[value=review]")

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("a[href='#worker_surname']")).to_be_visible()
    expect(page.locator("#worker_surname")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#worker_surname-error1")).to_be_visible()
    expect(page.locator("#worker_surname-error1")).to_contain_text("richtingveranderende")
    # The Cyrillic the employer typed is kept in the form, unchanged.
    expect(page.locator("#worker_surname_original")).to_have_value(SURNAME)

    page.fill("#worker_surname", "Kovalchuk")
    page.click("button[value=review]")
    expect(page.locator("h1")).to_have_text("Controleer uw melding")
    page.click("button[value=submit]")
    expect(page.locator(".notice--success")).to_be_visible()
    receipt = page.locator("main").inner_text()
    assert f"{GIVEN} {SURNAME}" in receipt
    assert RLO not in receipt

    page.click("text=Naar de melding")
    detail = page.locator("main").inner_text()
    assert SURNAME in detail
    assert GIVEN in detail
