"""The receipt as page and PDF: who notified (employer, KvK), a verification code with its QR
link, and a PDF whose texts never print over each other."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import Web, csrf_from, form_values
from tests.web.pdf_layout import overlaps, text_boxes
from tests.web.test_employer import submit_notification


def _pdf(web: Web, receipt: str, lang: str = "nl") -> bytes:
    response = web.client.get(f"{receipt}.pdf?lang={lang}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_text_in_the_pdf_overlaps_another(web: Web, lang: str) -> None:
    web.login()
    receipt = submit_notification(
        web,
        form_values(
            housing_provided="true",
            wage_includes_holiday_allowance="true",
            worker_surname_original="Коваленко-Шевченко",
        ),
    )
    pdf = _pdf(web, receipt, lang)
    assert len(text_boxes(pdf)) > 30
    clashes = [(a.text, b.text) for a, b in overlaps(pdf)]
    assert clashes == []


def test_both_receipts_name_the_employer_and_carry_the_qr_link(web: Web) -> None:
    web.login()
    receipt = submit_notification(web, form_values())
    html = web.client.get(receipt).text
    assert "Kwekerij De Tuin B.V." in html
    assert "12345678" in html
    assert re.search(r'<svg [^>]*class="qr"', html)
    link = re.search(r'href="(http://testserver/verify/([0-9A-Z]{20}))"', html)
    assert link, "no verification link on the receipt"
    pdf_text = " ".join(b.text for b in text_boxes(_pdf(web, receipt)))
    assert "Kwekerij De Tuin B.V." in pdf_text
    assert "12345678" in pdf_text
    assert link.group(1) in pdf_text
    web.client.post("/logout", data={"csrf_token": csrf_from(html)})
    check = web.client.get(link.group(1).removeprefix("http://testserver"))
    assert check.status_code == 200
    assert "Kwekerij De Tuin B.V." in check.text


@pytest.mark.parametrize(
    ("lang", "title", "minimum"),
    [
        ("uk", "Ваш примірник повідомлення", "щонайменше"),
        ("en", "Your copy of the notification", "at least"),
        ("nl", "Uw exemplaar van de melding", "ten minste"),
    ],
)
def test_the_worker_copy_in_three_languages_without_bsn(
    web: Web, lang: str, title: str, minimum: str
) -> None:
    web.login()
    values = form_values(wage_amount="700", wage_period="week", hours_per_week="38")
    receipt = submit_notification(web, values)
    base = receipt.removesuffix("/receipt")
    default = web.client.get(f"{base}/worker-copy")
    assert '<html lang="uk">' in default.text  # the worker's language unless asked otherwise
    page = web.client.get(f"{base}/worker-copy?lang={lang}")
    assert page.status_code == 200
    html = page.text
    assert f'<html lang="{lang}">' in html
    assert title in html
    assert "Kwekerij De Tuin B.V." in html
    assert "12345678" in html
    assert "0800 5151" in html
    assert minimum in html
    for bsn in ("111222333", values["worker_bsn"]):
        assert bsn not in html
    assert values["worker_document_number"] not in html
    # The employer's own pages keep their language.
    assert '<html lang="nl">' in web.client.get(receipt).text


def test_the_worker_copy_quotes_the_rule_for_the_age_on_the_start_date(web: Web) -> None:
    from datetime import date

    from meldplicht.rules import wages

    web.login()
    values = form_values(worker_birth_date="2008-06-01", wage_amount="11.00", wage_period="hour")
    receipt = submit_notification(web, values)
    html = web.client.get(f"{receipt.removesuffix('/receipt')}/worker-copy?lang=en").text
    start = date.fromisoformat(values["start_date"])
    age = wages.age_on(date(2008, 6, 1), start)
    expected = wages.minimum_hourly_wage(age, start, bbl_student=False).hourly
    assert f"at least {wages.eur(expected)} gross per hour at age {age}" in html


@pytest.mark.parametrize(
    ("lang", "title", "minimum"),
    [
        ("uk", "Ваш примірник повідомлення", "щонайменше"),
        ("en", "Your copy of the notification", "at least"),
        ("nl", "Uw exemplaar van de melding", "ten minste"),
    ],
)
def test_the_worker_copy_as_pdf_prints_as_written_without_overlap_or_bsn(
    web: Web, lang: str, title: str, minimum: str
) -> None:
    web.login()
    values = form_values(
        wage_amount="700",
        wage_period="week",
        hours_per_week="38",
        wage_includes_holiday_allowance="true",
    )
    base = submit_notification(web, values).removesuffix("/receipt")
    page = web.client.get(f"{base}/worker-copy?lang={lang}").text
    link = re.search(r'href="([^"]*/worker-copy\.pdf\?lang=([a-z]+))"', page)
    assert link, "no PDF link on the worker's copy"
    assert link.group(2) == lang  # the PDF in the language of the page it is linked from
    response = web.client.get(link.group(1))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert f"-{lang}.pdf" in response.headers["content-disposition"]
    pdf = response.content
    boxes = text_boxes(pdf)
    assert len(boxes) > 25
    assert [(a.text, b.text) for a, b in overlaps(pdf)] == []
    text = " ".join(" ".join(b.text for b in boxes).split())  # justified lines: one space
    assert title in text  # Cyrillic prints as written (an embedded Unicode font), no '?'
    assert minimum in text
    assert "Kwekerij De Tuin B.V." in text
    assert "12345678" in text
    assert "0800 5151" in text
    assert "(?)" not in text  # the note of a PDF without its Unicode font
    digits = re.sub(r"\D", "", text)
    for bsn in ("111222333", values["worker_bsn"]):
        assert bsn not in digits
        assert bsn[-4:] not in text  # not even the masked form's last digits
    assert values["worker_document_number"] not in text


def test_the_worker_copy_pdf_is_only_for_its_employer(web: Web) -> None:
    web.login()
    base = submit_notification(web, form_values()).removesuffix("/receipt")
    web.client.post("/logout", data={"csrf_token": web.csrf("/employer/")})
    web.client.cookies.clear()
    web.login("snel")
    assert web.client.get(f"{base}/worker-copy.pdf").status_code == 404
