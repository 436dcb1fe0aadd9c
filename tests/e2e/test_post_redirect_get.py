"""Back after sending: no "confirm form resubmission", no second notification (issue 17, 8)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_employer_flow import fill_notification
from tests.factories import VALID_BSNS
from tests.web.conftest import form_values

pytestmark = pytest.mark.browser


def test_back_after_sending_neither_resubmits_nor_duplicates(page: Page) -> None:
    sign_in(page)
    page.goto("/employer/notifications/new")
    fill_notification(page, form_values(worker_bsn=VALID_BSNS[0]))
    page.click("button[value=review]")
    expect(page.locator("h1")).to_have_text("Controleer uw melding")
    # The confirm page is a GET: its address holds only the draft's random id.
    assert "/employer/notifications/new/confirm?draft=" in page.url
    assert VALID_BSNS[0] not in page.url
    page.reload()  # a GET reloads without a resubmission prompt
    expect(page.locator("h1")).to_have_text("Controleer uw melding")
    page.click("button[value=submit]")
    expect(page.locator(".notice--success")).to_be_visible()
    receipt = page.url.split("?")[0]

    page.go_back()  # back to the confirm page: it leads to the same receipt
    page.wait_for_load_state()
    assert page.url.split("?")[0] == receipt
    page.goto("/employer/")
    expect(page.locator("tbody tr")).to_have_count(1)
