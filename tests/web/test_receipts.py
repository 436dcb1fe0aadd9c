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
