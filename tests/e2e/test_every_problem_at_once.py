"""Issue 17 (1) in a real browser: one submit of the form names every problem in the error
summary at the top (GOV.UK pattern), each linked to its field. Before the fix the empty form
left out the address and signatory, and "end before start" came only in a third round."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_employer_flow import fill_notification
from tests.web.conftest import form_values

pytestmark = pytest.mark.browser


def test_the_empty_form_names_every_required_field_at_once(page: Page) -> None:
    sign_in(page)
    page.goto("/employer/notifications/new")
    page.click("button[value=review]")
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    for field in (
        "worker_bsn",
        "start_date",
        "location_street",
        "location_house_number",
        "location_postcode",
        "location_city",
        "signatory_name",
        "declaration_truthful",
    ):
        expect(summary.locator(f"a[href='#{field}']")).to_have_count(1)
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "every-problem-empty-form")


def test_field_errors_and_refusals_on_the_first_submit(page: Page) -> None:
    sign_in(page)
    page.goto("/employer/notifications/new")
    values = form_values(worker_bsn="123456789", contract_type="self_employed")
    values["end_date"] = "2020-01-01"  # before the start
    fill_notification(page, values)
    page.fill("#signatory_name", "")
    page.click("button[value=review]")
    summary = page.locator(".error-summary")
    expect(summary.locator("a[href='#worker_bsn']")).to_contain_text("elfproef")
    expect(summary.locator("a[href='#signatory_name']")).to_have_count(1)
    expect(summary.locator("a[href='#end_date']")).to_contain_text("voor de startdatum")
    expect(summary.locator("a[href='#contract_type']")).to_contain_text("arbeidsovereenkomst")
    summary.locator("a[href='#end_date']").click()
    expect(page.locator("#end_date")).to_be_focused()
