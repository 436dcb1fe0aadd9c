"""In a real browser: notify the same worker again (the form prefilled, the BSN kept on the
server and never shown in full), copy the work for another worker, and the "action needed"
panel on the dashboard that says what to put right before an inspector asks."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from meldplicht.core.db import create_db_engine
from meldplicht.notifications.models import Notification
from tests.e2e.conftest import Server, screenshot, sign_in
from tests.e2e.test_change_prg import notify
from tests.e2e.test_employer_flow import fill_date, fill_notification
from tests.factories import VALID_BSNS, day
from tests.web.conftest import form_values

pytestmark = pytest.mark.browser


def stored(server: Server) -> list[Notification]:
    engine = create_db_engine(server.database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(Notification).order_by(Notification.received_at)))
    finally:
        engine.dispose()


def test_rehire_prefills_the_form_and_never_shows_the_bsn(page: Page, server: Server) -> None:
    bsn = VALID_BSNS[3]
    sign_in(page)
    detail = notify(page, bsn)
    page.goto(detail)
    page.click("text=Opnieuw melden (zelfde werknemer)")
    expect(page.locator("h1")).to_have_text("Nieuwe melding")
    expect(page.locator("#worker_given_names")).to_have_value("Olena")
    expect(page.locator("#worker_surname_original")).to_have_value("Коваленко")
    expect(page.locator("#job_title")).to_have_value("Productiemedewerker")
    expect(page.locator("#worker_bsn")).to_have_value("")
    expect(page.locator("#bsn-kept")).to_contain_text(f"eindigend op {bsn[-3:]}")
    expect(page.locator("#start_date")).to_have_value("")  # a new period: a new start
    assert bsn not in page.content()
    assert bsn not in page.url
    screenshot(page, "rehire-form")

    fill_date(page, "start_date", day(200))
    fill_date(page, "end_date", day(260))
    page.check("#declaration_truthful")
    page.click("button[value=review]")
    expect(page.locator("h1")).to_have_text("Controleer uw melding")
    assert bsn not in page.content()
    assert bsn not in page.url
    page.click("button[value=submit]")
    expect(page.locator(".notice--success")).to_be_visible()
    assert bsn not in page.content()

    first, second = stored(server)[-2:]
    assert first.worker_id == second.worker_id  # the same worker, by reference
    assert second.start_date.isoformat() == day(200)


def test_copy_takes_the_work_not_the_worker(page: Page) -> None:
    sign_in(page)
    detail = notify(page, VALID_BSNS[4])
    page.goto(detail)
    page.click("text=Kopiëren voor een andere werknemer")
    expect(page.locator("#job_title")).to_have_value("Productiemedewerker")
    expect(page.locator("#location_street")).to_have_value("Tuinbouwweg")
    expect(page.locator("#worker_given_names")).to_have_value("")
    expect(page.locator("#worker_bsn")).to_have_value("")
    expect(page.locator("#bsn-kept")).to_have_count(0)
    assert VALID_BSNS[4] not in page.content()


def test_action_needed_says_what_to_put_right(page: Page, server: Server) -> None:
    sign_in(page)
    page.goto("/employer/notifications/new")
    fill_notification(page, form_values(worker_bsn=VALID_BSNS[2], wage_amount="9,00"))
    page.click("button[value=review]")
    page.click("button[value=submit]")
    expect(page.locator(".notice--success")).to_be_visible()
    receipt_number = stored(server)[-1].receipt_number

    page.goto("/employer/")
    panel = page.locator("#actions")
    expect(panel.locator("h2")).to_have_text("Actie nodig")
    expect(panel).to_contain_text("minimumloon")
    expect(panel.locator(".legal-basis").first).to_contain_text("Wet minimumloon")
    screenshot(page, "dashboard-action-needed")
    page.goto("/employer/?lang=en")
    expect(page.locator("#actions h2")).to_have_text("Action needed")
    page.goto("/employer/?lang=nl")
    link = panel.locator("a", has_text=receipt_number)
    expect(link).to_have_count(1)
    link.click()
    assert f"/employer/notifications/{stored(server)[-1].id}" in page.url
    expect(page.locator("main")).to_contain_text(receipt_number)
