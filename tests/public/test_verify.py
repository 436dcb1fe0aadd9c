"""The receipt's verification code: the public page and API behind its QR link, on both
databases; no personal data in either."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from meldplicht.notifications.models import (
    VERIFICATION_ALPHABET,
    VERIFICATION_LENGTH,
    Notification,
)
from meldplicht.public.receipts import display_code, normalise_code
from tests.conftest import EmployerWithKey, unique_key
from tests.factories import notification_body

PERSONAL = ("Olena", "Kovalenko", "Коваленко", "111222333", "333", "Tuinbouwweg", "16.50")


def _notify(client: TestClient, employer: EmployerWithKey) -> dict[str, str]:
    response = client.post(
        "/api/v1/notifications",
        json=notification_body(),
        headers={**employer.headers, "Idempotency-Key": unique_key()},
    )
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def _code(session: Session, receipt_number: str) -> str:
    notification = session.exec(
        select(Notification).where(Notification.receipt_number == receipt_number)
    ).one()
    return notification.verification_code


def test_codes_are_random_and_not_the_receipt_number(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    receipts = [_notify(client, employer)["receipt_number"] for _ in range(3)]
    codes = [_code(session, r) for r in receipts]
    assert len(set(codes)) == 3
    for receipt, code in zip(receipts, codes, strict=True):
        assert len(code) == VERIFICATION_LENGTH
        assert set(code) <= set(VERIFICATION_ALPHABET)
        assert receipt.replace("-", "")[4:] not in code


def test_the_page_confirms_number_date_and_employer_without_personal_data(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    receipt = _notify(client, employer)["receipt_number"]
    code = _code(session, receipt)
    page = client.get(f"/verify/{code}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.status_code == 200
    html = page.text
    assert '<html lang="en">' in html
    assert "This receipt is genuine" in html
    assert receipt in html
    assert "Kwekerij De Tuin B.V." in html
    assert "12345678" in html
    assert not [p for p in PERSONAL if p in html]
    assert "no-store" in page.headers["cache-control"]
    # Typed from paper: lower case, in groups, O for 0.
    typed = display_code(code).lower().replace("0", "o")
    again = client.get(f"/verify/{typed}")
    assert again.status_code == 200
    assert receipt in again.text


def test_the_page_follows_accept_language(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    code = _code(session, _notify(client, employer)["receipt_number"])
    uk = client.get(f"/verify/{code}", headers={"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"})
    assert '<html lang="uk">' in uk.text
    assert "Ця квитанція справжня" in uk.text
    nl = client.get(f"/verify/{code}", headers={"Accept-Language": "nl-NL"})
    assert "Dit ontvangstbewijs is echt" in nl.text


def test_an_unknown_or_malformed_code_is_a_clear_404(client: TestClient) -> None:
    for code in ("0" * VERIFICATION_LENGTH, "not-a-code", "x" * 300):
        page = client.get(f"/verify/{code}", headers={"Accept-Language": "nl"})
        assert page.status_code == 404
        assert "Geen ontvangstbewijs met deze controlecode" in page.text
        api = client.get(f"/api/v1/receipts/{code}")
        assert api.status_code == 404
        assert api.headers["content-type"].startswith("application/problem+json")
        assert api.json()["code"] == "receipt_not_found"


def test_the_form_sends_a_typed_code_to_its_page(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    code = _code(session, _notify(client, employer)["receipt_number"])
    form = client.get("/verify")
    assert form.status_code == 200
    assert 'name="code"' in form.text
    sent = client.get("/verify", params={"code": f" {display_code(code)} "}, follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/verify/{code}"


def test_the_api_answers_the_same_without_personal_data(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    receipt = _notify(client, employer)["receipt_number"]
    code = _code(session, receipt)
    response = client.get(f"/api/v1/receipts/{code}")
    assert response.status_code == 200
    body = response.json()
    assert body["receipt_number"] == receipt
    assert body["employer_name"] == "Kwekerij De Tuin B.V."
    assert body["employer_kvk_number"] == "12345678"
    assert body["status"] == "active"
    assert not [p for p in PERSONAL if p in response.text]


def test_normalise_code() -> None:
    assert normalise_code("abcde-fghjk mnpqr.stvwx") == "ABCDEFGHJKMNPQRSTVWX"
    assert normalise_code("ABCDE-FGHJK-MNPQR-STVWU") is None
    assert re.fullmatch(r"(\w{5}-){3}\w{5}", display_code("A" * 20))
