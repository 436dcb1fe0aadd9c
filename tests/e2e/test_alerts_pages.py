"""Alert subscriptions in a real browser: add a webhook (the signing secret shown once), a
refused e-mail address in the linked error summary, then an e-mail address, and removal."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_add_a_webhook_and_an_email_address_then_remove_one(page: Page) -> None:
    sign_in(page)
    page.click("text=Waarschuwingen per webhook en e-mail >> nth=0")
    expect(page.locator("h1")).to_have_text("Waarschuwingen per webhook en e-mail")

    page.fill("#webhook_url", "https://hooks.example/meldplicht")
    page.click("button >> text=Webhook toevoegen")
    expect(page.locator(".notice--success")).to_have_text("Het adres is toegevoegd.")
    secret = page.locator("#signing-secret").inner_text()
    assert len(secret) >= 40
    screenshot(page, "alerts-secret-once")
    page.reload()  # a GET: no resubmission, and the secret is not shown again
    expect(page.locator("#signing-secret")).to_have_count(0)
    assert secret not in page.content()

    page.fill("#email_address", "personeelszaken")
    page.click("button >> text=E-mailadres toevoegen")
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    summary.locator("a[href='#email_address']").click()
    expect(page.locator("#email_address")).to_be_focused()
    expect(page.locator("#email_address")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email_address")).to_have_value("personeelszaken")

    page.fill("#email_address", "personeelszaken@tuin.example")
    page.click("button >> text=E-mailadres toevoegen")
    rows = page.locator("table.subscriptions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("personeelszaken@tuin.example")
    expect(rows.nth(1)).to_contain_text("Nog niets verzonden.")

    page.click("button[aria-label='https://hooks.example/meldplicht weghalen']")
    expect(page.locator(".notice--success")).to_contain_text("Het adres is weggehaald.")
    expect(rows).to_have_count(1)
    page.go_back()  # Back after removing shows a page, never a resubmission
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Waarschuwingen per webhook en e-mail")
    expect(page.locator("table.subscriptions tbody tr")).to_have_count(1)
