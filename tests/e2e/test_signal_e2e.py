"""A worker reports an employer in Ukrainian from the worker page, in a real browser; the
inspector finds the report, unverified, on the employer's case and marks it verified.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server, screenshot, sign_in

pytestmark = pytest.mark.browser

WHAT = "Нам не платять зарплату вже два місяці, а бригадир забрав паспорти."


def test_a_worker_sends_a_signal_in_ukrainian_and_the_inspector_sees_it(
    browser: Browser, page: Page, server: Server
) -> None:
    worker = browser.new_context(
        base_url=server.base_url,
        locale="uk-UA",
        extra_http_headers={"Accept-Language": "uk-UA,uk;q=0.9"},
    )
    try:
        w = worker.new_page()
        w.set_default_timeout(15_000)
        w.goto("/worker")
        expect(w.locator("html")).to_have_attribute("lang", "uk")
        w.click("a >> text=Повідомити про роботодавця тут")
        expect(w.locator("h1")).to_have_text("Повідомити про роботодавця")

        # Sent without saying what happened, and with a BSN: both refused, with a summary
        # whose links lead to the fields.
        w.fill("#employer_name", "Kwekerij De Tuin")
        w.fill("#place", "Наалдвейк")
        w.fill("#contact", "BSN 111222333")
        w.click("button >> text=Надіслати повідомлення")
        summary = w.locator(".error-summary")
        expect(summary).to_contain_text("Опишіть, що сталося.")
        expect(summary).to_contain_text("приберіть його")
        summary.locator("a[href='#what_happened']").click()
        expect(w.locator("#what_happened")).to_be_focused()
        screenshot(w, "60-signal-errors-uk")

        w.fill("#what_happened", WHAT)
        w.fill("#contact", "")
        w.click("button >> text=Надіслати повідомлення")
        expect(w.locator("h1")).to_have_text("Дякуємо: ваше повідомлення надійшло")
        assert w.url.endswith("/worker/signal/thanks")
        expect(w.locator("main")).to_contain_text("Що буде далі")
        expect(w.locator("main")).to_contain_text("0800 5151")
        expect(w.locator("main a[href='https://www.fairwork.nu/']")).to_be_visible()
        screenshot(w, "61-signal-thanks-uk")
        # Reloading the thank-you page sends nothing again (Post/Redirect/Get).
        w.reload()
        expect(w.locator("h1")).to_have_text("Дякуємо: ваше повідомлення надійшло")
    finally:
        worker.close()

    sign_in(page, "inspecteur")
    page.goto("/inspector/cases")
    page.select_option("#signals", "unverified")
    page.click("button >> text=Toon zaken")
    assert "signals=unverified" in page.url
    row = page.locator("table.queue tbody tr", has_text="Kwekerij De Tuin B.V.")
    expect(row).to_contain_text("1 niet-geverifieerde tip(s) van buiten")
    row.locator("a").first.click()
    report = page.locator("section.signal")
    expect(report).to_have_count(1)
    expect(report).to_contain_text("Niet geverifieerd")
    expect(report).to_contain_text(WHAT)
    expect(report).to_contain_text("gekoppeld op naam")
    expect(report.locator("blockquote")).to_have_attribute("lang", "uk")
    screenshot(page, "62-case-with-signal")
    report.locator("button >> text=Markeer als geverifieerd").click()
    expect(page.locator("[role=status]")).to_contain_text("De tip is gemarkeerd als geverifieerd.")
    expect(page.locator("section.signal")).to_contain_text("Geverifieerd")
    expect(page.locator("section.signal button")).to_have_count(0)


def test_on_a_phone_the_signal_form_fits_the_screen(browser: Browser, server: Server) -> None:
    phone = browser.new_context(
        base_url=server.base_url, viewport={"width": 390, "height": 844}, locale="uk-UA"
    )
    try:
        p = phone.new_page()
        p.goto("/worker/signal?lang=uk")
        expect(p.locator("h1")).to_have_text("Повідомити про роботодавця")
        overflow = p.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        screenshot(p, "phone-worker-signal")
    finally:
        phone.close()
