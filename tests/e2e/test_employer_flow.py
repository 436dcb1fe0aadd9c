"""An employer in a real browser: sign in, notify (with a mistake), receipt, PDF, bulk upload."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, sign_in
from tests.factories import VALID_BSNS
from tests.web.conftest import csv_upload, form_values

pytestmark = pytest.mark.browser

SELECTS = {
    "worker_sex",
    "worker_nationality",
    "worker_document_type",
    "contract_type",
    "wage_period",
}
CHECKBOXES = {
    "wage_includes_holiday_allowance",
    "housing_written_consent",
    "housing_certified",
    "bbl_student",
    "paid_in_cash",
    "declaration_truthful",
}


DATES = {"worker_birth_date", "worker_document_valid_until", "start_date", "end_date"}


def fill_date(page: Page, name: str, iso: str) -> None:
    """A date as a person enters it: day, month and year in their own boxes."""
    year, month, day = iso.split("-") if iso else ("", "", "")
    page.fill(f"#{name}", day)
    page.fill(f"#{name}-month", month)
    page.fill(f"#{name}-year", year)


def fill_notification(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        if name == "housing_provided":
            page.check(f"#housing_provided-{'yes' if value == 'ja' else 'no'}")
        elif name in CHECKBOXES:
            if value == "ja":
                page.check(f"#{name}")
        elif name in SELECTS:
            page.select_option(f"#{name}", value)
        elif name.startswith("location2_"):
            continue
        elif name in DATES:
            fill_date(page, name, value)
        else:
            page.fill(f"#{name}", value)


def test_notify_with_a_mistake_correct_it_and_get_the_receipt(page: Page) -> None:
    sign_in(page)
    expect(page.locator("h1")).to_have_text("Mijn meldingen")
    screenshot(page, "01-dashboard-empty")
    page.click("text=Nieuwe melding >> nth=0")
    screenshot(page, "02-form")

    values = form_values(worker_bsn="123456789", wage_amount="12,00")
    fill_notification(page, values)
    page.click("button[value=review]")

    # The server refused the BSN: summary at the top, inline error, everything typed kept.
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("a[href='#worker_bsn']")).to_contain_text("BSN")
    expect(page.locator("#worker_bsn")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#worker_bsn-error1")).to_contain_text("elfproef")
    expect(page.locator("#worker_bsn")).to_have_value("123456789")
    expect(page.locator("#worker_surname_original")).to_have_value("Коваленко")
    expect(page.locator("#wage_amount")).to_have_value("12,00")
    expect(page.locator("#contract_type")).to_have_value(values["contract_type"])
    screenshot(page, "03-form-with-error")

    # The summary link moves focus to the field (keyboard users land on it).
    summary.locator("a[href='#worker_bsn']").click()
    expect(page.locator("#worker_bsn")).to_be_focused()
    page.fill("#worker_bsn", VALID_BSNS[0])
    page.click("button[value=review]")

    expect(page.locator("h1")).to_have_text("Controleer uw melding")
    findings = page.locator(".findings")
    expect(findings).to_contain_text("€ 12,00")
    expect(findings).to_contain_text("minimum")
    screenshot(page, "04-confirm")
    page.click("button[value=submit]")

    expect(page.locator(".notice--success")).to_be_visible()
    receipt_number = page.locator(".receipt-number").inner_text().strip()
    assert re.fullmatch(r"MP\d\d-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt_number)
    expect(page.locator(".verdict")).to_have_text("Op tijd gemeld")
    expect(page.locator("main")).to_contain_text("Олена Коваленко")
    screenshot(page, "05-receipt")

    with page.expect_download() as info:
        page.click("text=Download als PDF")
    download = info.value
    assert download.suggested_filename == f"{receipt_number}.pdf"
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF")
    assert receipt_number.encode() in content

    page.click("text=Naar de melding")
    expect(page.locator("h1")).to_contain_text(receipt_number)
    screenshot(page, "06-detail")
    page.goto("/employer/")
    expect(page.locator("tbody tr")).to_have_count(1)
    screenshot(page, "07-dashboard")


def test_bulk_upload_gives_a_report_per_row(page: Page) -> None:
    good = form_values(worker_bsn=VALID_BSNS[1])
    rows = [
        {**good, "external_reference": "A-1"},
        {**good, "external_reference": "A-2", "worker_bsn": "123456789"},
        {
            **good,
            "external_reference": "A-3",
            "worker_bsn": VALID_BSNS[2],
            "location_postcode": "0123 SS",
            "job_title": "",
        },
        {**good, "external_reference": "A-4", "worker_bsn": VALID_BSNS[3]},
    ]
    sign_in(page)
    page.goto("/employer/bulk")
    screenshot(page, "08-bulk-form")
    page.set_input_files(
        "#file", files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": csv_upload(rows)}]
    )
    page.click("button >> text=Uploaden")

    expect(page.locator("h1")).to_have_text("Resultaat van de upload")
    expect(page.locator(".count").nth(0)).to_have_text("4")
    expect(page.locator(".count--ok")).to_have_text("2")
    expect(page.locator(".count--bad")).to_have_text("2")
    rejected = page.locator("tr.row--rejected")
    expect(rejected).to_have_count(2)
    expect(rejected.nth(0)).to_contain_text("worker_bsn")
    expect(rejected.nth(1)).to_contain_text("location_postcode")
    expect(rejected.nth(1)).to_contain_text("job_title")
    accepted = page.locator("tr.row--accepted")
    expect(accepted).to_have_count(2)
    expect(accepted.nth(0)).to_contain_text("A-1")
    expect(accepted.nth(1)).to_contain_text("A-4")
    screenshot(page, "09-bulk-report")
