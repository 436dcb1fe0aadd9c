"""In a real browser: the receipt's QR link to the public check page, the API docs with the
network blocked, and the phone layout (header height, no sideways scroll)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import Server, screenshot, sign_in
from tests.e2e.test_employer_flow import fill_notification
from tests.web.conftest import form_values

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _notify(page: Page) -> str:
    page.goto("/employer/notifications/new")
    fill_notification(page, form_values(worker_bsn="999996356"))
    page.click("button[value=review]")
    page.click("button[value=submit]")
    expect(page.locator("h1")).to_have_text("Ontvangstbevestiging")
    return page.url


def _sideways_scroll(page: Page) -> int:
    overflow: int = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return overflow


def test_the_qr_link_leads_to_the_public_check_without_personal_data(
    browser: Browser, server: Server, page: Page
) -> None:
    sign_in(page)
    _notify(page)
    link = page.locator(".verify-url a")
    href = link.get_attribute("href")
    assert href
    assert re.search(r"/verify/[0-9A-Z]{20}$", href)
    expect(page.locator(".verify-qr svg")).to_be_visible()
    # Someone else, not signed in, with an English browser.
    other = browser.new_context(base_url=server.base_url, locale="en-GB")
    try:
        stranger = other.new_page()
        stranger.goto(href)
        expect(stranger.locator("html")).to_have_attribute("lang", "en")
        expect(stranger.locator(".notice h2")).to_have_text("This receipt is genuine")
        expect(stranger.locator("main")).to_contain_text("Kwekerij De Tuin B.V.")
        text = stranger.locator("main").inner_text()
        assert "Kovalenko" not in text
        assert "6356" not in text
        screenshot(stranger, "verify-found")
    finally:
        other.close()


@pytest.mark.parametrize(
    ("path", "ready"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")]
)
def test_api_docs_work_with_the_network_blocked(
    page: Page, server: Server, path: str, ready: str
) -> None:
    ours = urlparse(server.base_url).netloc
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if urlparse(route.request.url).netloc == ours:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(path)
    # ReDoc parses a 1 MB script before it draws: give a busy machine time.
    expect(page.locator(ready).first).to_contain_text("meldplicht", timeout=30_000)
    assert outside == []


@pytest.mark.parametrize("path", ["/login", "/employer/", "/worker"])
def test_on_a_phone_the_header_takes_under_a_quarter_of_the_screen(
    browser: Browser, server: Server, path: str
) -> None:
    context = browser.new_context(base_url=server.base_url, viewport=PHONE, locale="nl-NL")
    try:
        page = context.new_page()
        if path != "/login":
            sign_in(page)
        page.goto(path)
        height = page.locator("header.site-header").bounding_box()
        assert height is not None
        assert height["height"] < 0.25 * PHONE["height"], height
        assert _sideways_scroll(page) <= 0
        screenshot(page, f"phone-{path.strip('/').replace('/', '-') or 'home'}")
    finally:
        context.close()


def test_on_a_phone_the_receipt_and_dashboard_do_not_scroll_sideways(
    browser: Browser, server: Server
) -> None:
    context = browser.new_context(base_url=server.base_url, viewport=PHONE, locale="nl-NL")
    try:
        page = context.new_page()
        sign_in(page)
        receipt = _notify(page)
        assert _sideways_scroll(page) <= 0
        screenshot(page, "phone-receipt")
        page.goto(receipt.replace("/receipt", "/worker-copy"))
        assert _sideways_scroll(page) <= 0
        page.goto(receipt.split("?")[0].removesuffix("/receipt"))
        assert _sideways_scroll(page) <= 0
        page.goto("/employer/")
        assert _sideways_scroll(page) <= 0
        screenshot(page, "phone-dashboard")
    finally:
        context.close()


def test_the_favicon_is_served(page: Page) -> None:
    page.goto("/login")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href
    response = page.request.get(href)
    assert response.ok
    assert "svg" in response.headers["content-type"]
    assert page.request.get("/favicon.ico").ok


def test_dates_are_entered_day_month_year_and_typed_digits_read_the_dutch_way(
    page: Page,
) -> None:
    sign_in(page)
    page.goto("/employer/notifications/new")
    birth = page.locator("fieldset.date-input", has=page.locator("#worker_birth_date"))
    labels = [t.strip() for t in birth.locator("label").all_inner_texts()]
    assert labels == ["Dag", "Maand", "Jaar"]
    values = form_values(worker_bsn="999993653")
    fill_notification(page, values)
    # Someone types the birth date as one run of digits in the first box.
    page.fill("#worker_birth_date", "14031995")
    page.fill("#worker_birth_date-month", "")
    page.fill("#worker_birth_date-year", "")
    page.click("button[value=review]")
    expect(page.locator("main")).to_contain_text("14 maart 1995")
    page.click("button[value=submit]")
    expect(page.locator("h1")).to_have_text("Ontvangstbevestiging")
    expect(page.locator("main")).to_contain_text("14 maart 1995")
