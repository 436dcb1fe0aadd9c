"""The case queue in a real browser: open it, sort by back pay, open a case, claim it,
download the report, close it with an outcome.

The case is made the way production makes it: notifications sent over the API by the seeded
employer's key; intake flags the underpaid wages and the flags join the employer's case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, screenshot, sign_in
from tests.factories import VALID_BSNS, notification_body, with_worker

pytestmark = pytest.mark.browser


def notify(server: Server, body: dict[str, Any]) -> None:
    response = httpx.post(
        f"{server.base_url}/api/v1/notifications",
        json=body,
        headers={"Authorization": f"Bearer {server.accounts.api_token}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def case(server: Server) -> None:
    """Two adults paid EUR 9.00 an hour, 40 hours a week, 6 July - 2 August 2026 (4 weeks):
    (14.99 - 9.00) x 160 = 958.40 + 8% = EUR 1,035.07 each, EUR 2,070.14 for the case."""
    for bsn in VALID_BSNS[:2]:
        body = notification_body(start_date="2026-07-06", end_date="2026-08-02")
        body["hours_per_week"] = "40"
        body["wage"] = {"amount": "9.00", "period": "hour", "includes_holiday_allowance": False}
        notify(server, with_worker(body, bsn=bsn, surname=f"Onderbetaald {bsn[-3:]}"))


def test_inspector_works_a_case_from_queue_to_closing(
    page: Page, case: None, server: Server
) -> None:
    sign_in(page, "inspecteur")
    page.goto("/inspector/cases")
    expect(page.locator("h1")).to_have_text("Zaken")
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(1)
    page.click("a >> text=Meeste achterstallig loon eerst")
    assert "sort=back_pay" in page.url
    expect(rows.first).to_contain_text("Kwekerij De Tuin B.V.")
    expect(rows.first).to_contain_text("2.070,14")
    screenshot(page, "40-case-queue")

    rows.first.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("Kwekerij De Tuin B.V.")
    expect(page.locator("#case-back-pay")).to_contain_text("2.070,14")
    expect(page.locator("main")).to_contain_text("******333")
    page.click("button >> text=Zaak in behandeling nemen")
    expect(page.locator("[role=status]")).to_contain_text("De zaak is nu van u.")
    expect(page.locator("#case-status")).to_have_text("In behandeling")

    with page.expect_download() as info:
        page.click("text=Rapport downloaden (PDF)")
    content = Path(info.value.path()).read_bytes()
    assert content.startswith(b"%PDF")
    assert info.value.suggested_filename.startswith("zaak-Z-")

    page.click("button >> text=Zaak afsluiten")  # without an outcome: refused, nothing changes
    expect(page.locator("[role=alert]")).to_be_visible()
    page.select_option("#outcome", "order_to_pay")
    page.fill("#close-note", "Last onder dwangsom: achterstallig loon nabetalen.")
    page.click("button >> text=Zaak afsluiten")
    expect(page.locator("[role=status]")).to_contain_text("De zaak is afgesloten.")
    expect(page.locator("#case-status")).to_contain_text(
        "Afgesloten: Last tot betaling van achterstallig loon"
    )
    screenshot(page, "41-case-closed")
