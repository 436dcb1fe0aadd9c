"""A change of work location in a real browser, with Post/Redirect/Get (issue 17): the check
page is a GET that reloads without a resubmission prompt, Send leads to the notice, and Back
after sending shows a page, never a second change."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from meldplicht.core.db import create_db_engine
from meldplicht.notifications.models import NotificationVersion
from tests.e2e.conftest import Server, screenshot, sign_in
from tests.e2e.test_employer_flow import fill_date, fill_notification
from tests.factories import VALID_BSNS, day
from tests.web.conftest import form_values

pytestmark = pytest.mark.browser


def notify(page: Page, bsn: str) -> str:
    """A notification sent through the form; returns its page's address."""
    page.goto("/employer/notifications/new")
    fill_notification(page, form_values(worker_bsn=bsn))
    page.click("button[value=review]")
    page.click("button[value=submit]")
    expect(page.locator(".notice--success")).to_be_visible()
    return page.url.split("?")[0].removesuffix("/receipt")


def versions(server: Server) -> list[NotificationVersion]:
    engine = create_db_engine(server.database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(NotificationVersion)))
    finally:
        engine.dispose()


def test_send_a_change_of_work_location(page: Page, server: Server) -> None:
    sign_in(page)
    detail = notify(page, VALID_BSNS[1])
    page.goto(detail)
    page.click("text=Wijziging doorgeven")
    expect(page.locator("h1")).to_have_text("Wijziging doorgeven")
    expect(page.locator("#location_street")).to_have_value("Tuinbouwweg")
    fill_date(page, "effective_date", day(5))
    page.fill("#location_street", "Havenweg")
    page.fill("#location_house_number", "3")
    page.fill("#location_postcode", "3011 AA")
    page.fill("#location_city", "Rotterdam")
    page.fill("#reason", "Ander werkadres")
    page.click("button[value=review]")

    expect(page.locator("h1")).to_have_text("Controleer de wijziging")
    assert "/change/confirm?draft=" in page.url
    assert "Havenweg" not in page.url
    table = page.locator("table.changes")
    expect(table).to_contain_text("Tuinbouwweg")
    expect(table).to_contain_text("Havenweg")
    screenshot(page, "change-location-check")
    page.reload()  # a GET: no "confirm form resubmission"
    expect(page.locator("h1")).to_have_text("Controleer de wijziging")

    page.click("button[value=submit]")
    expect(page.locator(".notice--success")).to_contain_text("De wijziging is ontvangen.")
    assert page.url.split("?")[0] == detail
    expect(page.locator("main")).to_contain_text("Havenweg")

    page.go_back()  # to the check page: it leads to the notice again
    page.wait_for_load_state()
    assert page.url.split("?")[0] == detail
    expect(page.locator("h1")).not_to_have_text("Controleer de wijziging")
    page.reload()
    changed = [v for v in versions(server) if v.changes]
    assert len(changed) == 1
    assert set(changed[0].changes) == {"work_locations"}
