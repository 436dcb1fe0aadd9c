"""The employer's pages over TestClient: form, confirm, receipt, PDF, changes, bulk."""

from __future__ import annotations

import re
import time
from html import unescape as html_unescape
from typing import Any

from sqlmodel import Session, func, select

from meldplicht.notifications.models import Notification, NotificationStatus
from tests.factories import VALID_BSNS, day
from tests.web.conftest import Web, csrf_from, csv_upload, form_values

NEW = "/employer/notifications/new"


def post_form(web: Web, values: dict[str, str], action: str, **extra: str) -> Any:
    """Post the form; a review follows its redirect to the confirm page (Post/Redirect/Get)."""
    token = csrf_from(web.client.get(NEW).text)
    response = web.client.post(
        NEW,
        data={**values, "action": action, "csrf_token": token, **extra},
        follow_redirects=False,
    )
    if action == "review" and response.status_code == 303:
        assert "/employer/notifications/new/confirm?draft=" in response.headers["location"]
        return web.client.get(response.headers["location"], follow_redirects=False)
    return response


def submit_notification(web: Web, values: dict[str, str]) -> str:
    """Review, then send: returns the receipt page's path."""
    review = post_form(web, values, "review")
    assert review.status_code == 200, review.text
    submission = re.search(r'name="submission_id" value="([0-9a-f]+)"', review.text)
    assert submission
    sent = post_form(web, values, "submit", submission_id=submission.group(1))
    assert sent.status_code == 303, sent.text
    location: str = sent.headers["location"]
    return location.split("?")[0]


def change_form_values(html: str) -> dict[str, str]:
    """The values a browser would post from the prefilled change form (text and ticked)."""
    values = dict(
        re.findall(
            r'<input class="input[^"]*" id="[^"]*" name="([^"]+)" type="[a-z]+" value="([^"]*)"',
            html,
        )
    )
    # Dates are entered as day, month and year boxes (name-day, name-month, name-year); the
    # server also reads one YYYY-MM-DD value under the name, which tests can override.
    parts = dict(
        re.findall(r'name="([^"]+-(?:day|month|year))" type="text"[^>]*? value="([^"]*)"', html)
    )
    for key in [k for k in parts if k.endswith("-day")]:
        name = key.removesuffix("-day")
        d, m, y = parts[key], parts.get(f"{name}-month", ""), parts.get(f"{name}-year", "")
        values[name] = f"{y}-{int(m):02d}-{int(d):02d}" if d and m and y else ""
    for name in re.findall(r'name="([^"]+)" type="checkbox" value="true" checked', html):
        values[name] = "true"
    for name, value in re.findall(r'name="([^"]+)" value="(true|false)" checked', html):
        values[name] = value
    for name, value in re.findall(r'<textarea[^>]* name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        values[name] = value
    for name, value in re.findall(
        r'<select[^>]* name="([^"]+)".*?<option value="([^"]*)" selected', html, re.S
    ):
        values[name] = value
    return {k: html_unescape(v) for k, v in values.items()}


def stored(web: Web) -> list[Notification]:
    with Session(web.engine) as session:
        return list(session.exec(select(Notification)))


class TestForm:
    def test_housing_certified_and_bbl_are_asked_and_stored(self, web: Web) -> None:
        web.login()
        page = web.client.get(NEW).text
        assert 'name="housing_certified"' in page
        assert 'name="bbl_student"' in page
        values = form_values(housing_certified="", bbl_student="ja")
        review = post_form(web, values, "review")
        assert review.status_code == 200, review.text
        assert "HOUSING_DEDUCTION_CONDITIONS" in review.text or "kwaliteitseisen" in review.text
        submit_notification(web, form_values(housing_certified="ja", bbl_student="ja"))
        (notification,) = stored(web)
        assert notification.housing_certified is True
        assert notification.bbl_student is True

    def test_paid_in_cash_is_asked_found_and_stored(self, web: Web) -> None:
        web.login()
        page = web.client.get(NEW).text
        assert 'name="paid_in_cash"' in page
        assert "Het loon wordt contant betaald" in page
        review = post_form(web, form_values(paid_in_cash="ja"), "review")
        assert review.status_code == 200, review.text
        assert "Volgens de melding wordt het loon contant betaald" in review.text
        submit_notification(web, form_values(paid_in_cash="ja"))
        (notification,) = stored(web)
        assert notification.paid_in_cash is True

    def test_invalid_bsn_is_shown_inline_and_everything_typed_is_kept(self, web: Web) -> None:
        web.login()
        values = form_values(worker_bsn="123456789", worker_surname_original="Коваленко")
        response = post_form(web, values, "review")
        assert response.status_code == 422
        html = response.text
        assert '<a href="#worker_bsn">BSN: Geen geldig BSN' in html
        assert re.search(
            r'id="worker_bsn" name="worker_bsn" type="text" value="123456789" required '
            r'aria-invalid="true" aria-describedby="worker_bsn-hint worker_bsn-error1"',
            html,
        )
        assert 'id="worker_bsn-error1"' in html
        assert 'value="Коваленко"' in html
        assert '<option value="fixed_term" selected>' in html
        assert stored(web) == []

    def test_every_error_at_once_with_links_to_the_fields(self, web: Web) -> None:
        web.login()
        values = form_values(worker_bsn="1", location_postcode="0000 SS", job_title="")
        values.pop("declaration_truthful")
        html = post_form(web, values, "review").text
        for field in ("worker_bsn", "location_postcode", "job_title", "declaration_truthful"):
            assert f'href="#{field}"' in html
            assert f'id="{field}-error1"' in html

    def test_cross_field_error_lands_on_its_field(self, web: Web) -> None:
        web.login()
        values = form_values(contract_type="self_employed")
        html = post_form(web, values, "review").text
        assert 'href="#contract_type"' in html
        assert "tewerkstellingsvergunning" in html

    def test_english_error_messages(self, web: Web) -> None:
        web.login()
        web.client.get("/employer/?lang=en")
        html = post_form(web, form_values(worker_bsn="123456789"), "review").text
        assert "BSN (citizen service number): Is not a valid BSN" in html

    def test_confirm_shows_findings_with_the_numbers_before_anything_is_stored(
        self, web: Web
    ) -> None:
        web.login()
        response = post_form(web, form_values(wage_amount="12.00"), "review")
        assert response.status_code == 200
        assert "Controleer uw melding" in response.text
        assert "€ 12,00" in response.text
        assert "onder het wettelijk minimum" in response.text
        assert stored(web) == []

    def test_edit_goes_back_to_the_form_with_the_values(self, web: Web) -> None:
        web.login()
        response = post_form(web, form_values(job_title="Inpakker"), "edit")
        assert response.status_code == 200
        assert 'value="Inpakker"' in response.text

    def test_submit_stores_once_and_redirects_to_the_receipt(self, web: Web) -> None:
        web.login()
        values = form_values()
        review = post_form(web, values, "review")
        submission = re.search(r'name="submission_id" value="([0-9a-f]+)"', review.text)
        assert submission
        first = post_form(web, values, "submit", submission_id=submission.group(1))
        again = post_form(web, values, "submit", submission_id=submission.group(1))
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        rows = stored(web)
        assert len(rows) == 1
        assert rows[0].channel == "form"
        receipt = web.client.get(first.headers["location"])
        assert receipt.status_code == 200
        assert rows[0].receipt_number in receipt.text
        assert "Uw melding is ontvangen" in receipt.text
        assert "Uiterste meldingsdatum" in receipt.text


class TestEscaping:
    def test_script_in_a_name_renders_as_text(self, web: Web) -> None:
        web.login()
        evil = "<script>alert(1)</script>"
        location = submit_notification(
            web, form_values(worker_given_names=evil, worker_surname="O'Brien &amp; Co")
        )
        for path in (location, "/employer/", location.replace("/receipt", "")):
            html = web.client.get(path).text
            assert "<script>alert(1)</script>" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
            assert "O&#39;Brien &amp;amp; Co" in html

    def test_script_in_the_form_is_escaped_when_shown_again(self, web: Web) -> None:
        web.login()
        html = post_form(
            web, form_values(worker_bsn="x", job_title='"><script>alert(1)</script>'), "review"
        ).text
        assert "<script>alert(1)</script>" not in html
        assert 'value="&#34;&gt;&lt;script&gt;' in html

    def test_cyrillic_names_render_as_written(self, web: Web) -> None:
        web.login()
        location = submit_notification(
            web, form_values(worker_given_names_original="Ґанна", worker_surname_original="Їжак")
        )
        assert "Ґанна Їжак" in web.client.get(location).text


class TestReceiptPdf:
    def test_pdf_download(self, web: Web) -> None:
        web.login()
        location = submit_notification(web, form_values())
        number = stored(web)[0].receipt_number
        response = web.client.get(f"{location}.pdf")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert f'filename="{number}.pdf"' in response.headers["content-disposition"]
        assert response.content.startswith(b"%PDF-")
        assert number.encode() in response.content  # title and subject of the document
        # The Unicode font is embedded (Cyrillic names print as written).
        assert b"FontFile2" in response.content

    def test_pdf_in_english(self, web: Web) -> None:
        web.login()
        location = submit_notification(web, form_values())
        web.client.get("/employer/?lang=en")
        assert b"(Receipt MP" in web.client.get(f"{location}.pdf").content


class TestChangeTerminateWithdraw:
    def notification_path(self, web: Web) -> str:
        web.login()
        return submit_notification(web, form_values()).removesuffix("/receipt")

    def post(self, web: Web, path: str, data: dict[str, str]) -> Any:
        token = csrf_from(web.client.get(path).text)
        response = web.client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
        location = response.headers.get("location", "")
        if data.get("action") == "review" and "/change/confirm?draft=" in location:
            return web.client.get(location, follow_redirects=False)  # Post/Redirect/Get
        return response

    def test_change_wage(self, web: Web) -> None:
        base = self.notification_path(web)
        form = web.client.get(f"{base}/change").text
        # Prefilled with what is notified now.
        assert 'name="wage_amount" type="text" value="15.20"' in form
        values = change_form_values(form)
        values.update(effective_date=day(10), wage_amount="17,25", action="review")
        check = self.post(web, f"{base}/change", values)
        assert check.status_code == 200, check.text
        assert "Controleer de wijziging" in check.text
        assert stored(web)[0].version == 1  # the check step stores nothing
        sid = re.search(r'name="submission_id" value="([0-9a-f]+)"', check.text)
        assert sid
        values.update(action="submit", submission_id=sid.group(1))
        response = self.post(web, f"{base}/change", values)
        assert response.status_code == 303
        assert response.headers["location"] == f"{base}?done=changed"
        detail = web.client.get(response.headers["location"]).text
        assert "De wijziging is ontvangen." in detail
        assert "€ 17,25" in detail
        assert stored(web)[0].version == 2

    def test_change_errors_are_shown_on_the_form(self, web: Web) -> None:
        base = self.notification_path(web)
        values = change_form_values(web.client.get(f"{base}/change").text)
        response = self.post(web, f"{base}/change", {**values, "effective_date": ""})
        assert response.status_code == 422
        assert 'href="#effective_date"' in response.text
        nothing = self.post(web, f"{base}/change", {**values, "effective_date": day(1)})
        assert nothing.status_code == 422
        assert "Er verschilt niets met de melding zoals die nu is" in nothing.text

    def test_terminate_with_a_future_end_date_keeps_the_notification_active(self, web: Web) -> None:
        base = self.notification_path(web)
        response = self.post(
            web, f"{base}/terminate", {"end_date": day(30), "reason": "Contract beëindigd"}
        )
        assert response.status_code == 303
        assert stored(web)[0].status == NotificationStatus.ACTIVE
        detail = web.client.get(base).text
        assert "blijft actief tot en met" in detail
        # Changes stay open until the end date.
        assert f'href="{base}/change"' in detail
        assert web.client.get(f"{base}/change").status_code == 200

    def test_withdraw_before_the_start(self, web: Web) -> None:
        base = self.notification_path(web)
        response = self.post(web, f"{base}/withdraw", {"reason": "Per vergissing gemeld"})
        assert response.status_code == 303
        assert stored(web)[0].status == NotificationStatus.WITHDRAWN

    def test_withdraw_needs_a_reason(self, web: Web) -> None:
        base = self.notification_path(web)
        response = self.post(web, f"{base}/withdraw", {"reason": " "})
        assert response.status_code == 422
        assert 'href="#reason"' in response.text


class TestBulk:
    def rows(self) -> list[dict[str, str]]:
        good = form_values()
        return [
            {**good, "external_reference": "R-1", "worker_bsn": VALID_BSNS[0]},
            {**good, "external_reference": "R-2", "worker_bsn": "123456789"},
            {**good, "external_reference": "R-3", "worker_bsn": VALID_BSNS[1], "wage_amount": ""},
            {**good, "external_reference": "R-4", "worker_bsn": VALID_BSNS[2]},
            # Passes the columns but not the cross-field check: refused by the service.
            {
                **good,
                "external_reference": "R-5",
                "worker_bsn": VALID_BSNS[3],
                "contract_type": "temporary_agency",
            },
        ]

    def upload_page(self, web: Web, content: bytes, name: str = "staff.csv") -> Any:
        token = csrf_from(web.client.get("/employer/bulk").text)
        response = web.client.post(
            "/employer/bulk",
            data={"csrf_token": token},
            files={"file": (name, content, "text/csv")},
        )
        # A busy machine may show the progress page first: follow it like a browser would.
        deadline = time.monotonic() + 30
        while 'http-equiv="refresh"' in response.text and time.monotonic() < deadline:
            time.sleep(0.2)
            response = web.client.get(response.url.path)
        return response

    def test_template_download(self, web: Web) -> None:
        web.login()
        response = web.client.get("/employer/bulk/template.csv")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        header = response.text.splitlines()[0]
        assert header.startswith("external_reference,worker_given_names")
        assert "received_at" not in header

    def test_page_upload_reports_each_row_and_stores_only_good_rows(self, web: Web) -> None:
        web.login()
        response = self.upload_page(web, csv_upload(self.rows()))
        assert response.status_code == 200
        html = response.text
        # total, accepted, already present, conflict, rejected, flagged
        assert re.findall(r'<strong class="count[^"]*">(\d+)</strong>', html) == [
            "5",
            "2",
            "0",
            "0",
            "3",
            "0",
        ]
        assert html.count('class="row--rejected"') == 3
        assert "<code>worker_bsn</code>" in html
        assert "<code>wage_amount</code>" in html
        assert "<code>hirer_kvk_number</code>" in html
        rows = stored(web)
        assert sorted(n.external_reference or "" for n in rows) == ["R-1", "R-4"]
        assert {n.channel for n in rows} == {"bulk"}

        # The same file again stores nothing twice.
        again = self.upload_page(web, csv_upload(self.rows())).text
        assert re.findall(r'<strong class="count[^"]*">(\d+)</strong>', again) == [
            "5",
            "0",
            "2",
            "0",
            "3",
            "0",
        ]
        assert len(stored(web)) == 2

    def test_report_csv(self, web: Web) -> None:
        web.login()
        response = self.upload_page(web, csv_upload(self.rows()))
        link = re.search(r'href="(/employer/bulk/[0-9a-f]+/report\.csv)"', response.text)
        assert link
        report = web.client.get(link.group(1)).text.splitlines()
        assert report[0] == (
            "line,external_reference,worker_name,status,receipt_number,findings,errors"
        )
        assert re.match(r"2,R-1,[^,]+ [^,]+,accepted,MP", report[1])
        assert re.match(r"3,R-2,[^,]+,rejected,,,worker_bsn:", report[2])

    def test_not_utf8_is_refused_with_a_clear_message(self, web: Web) -> None:
        web.login()
        response = self.upload_page(web, "naam;plaats\nJosé;Zaandam\n".encode("cp1252"))
        assert response.status_code == 422
        assert "CSV UTF-8" in response.text

    def test_another_employer_cannot_see_the_report(self, web: Web) -> None:
        web.login()
        response = self.upload_page(web, csv_upload(self.rows()))
        job = str(response.url.path)
        token = csrf_from(web.client.get("/employer/").text)
        web.client.post("/logout", data={"csrf_token": token})
        web.login("snel")
        assert web.client.get(job).status_code == 404

    def test_api_bulk_with_text_csv(self, web: Web) -> None:
        response = web.client.post(
            "/api/v1/notifications/bulk",
            content=csv_upload(self.rows()),
            headers={
                "Authorization": f"Bearer {web.accounts.api_token}",
                "Content-Type": "text/csv",
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["total"], body["accepted"], body["rejected"]) == (5, 2, 3)
        statuses = [(r["line"], r["status"]) for r in body["rows"]]
        assert statuses == [
            (2, "accepted"),
            (3, "rejected"),
            (4, "rejected"),
            (5, "accepted"),
            (6, "rejected"),
        ]
        assert body["rows"][0]["receipt_number"].startswith("MP")
        assert body["rows"][1]["errors"][0]["field"] == "worker_bsn"
        assert body["rows"][1]["errors"][0]["message_nl"].startswith("Geen geldig BSN")
        with Session(web.engine) as session:
            count = session.exec(select(func.count()).select_from(Notification)).one()
        assert count == 2

    def test_api_bulk_with_multipart(self, web: Web) -> None:
        response = web.client.post(
            "/api/v1/notifications/bulk",
            files={"file": ("staff.csv", csv_upload(self.rows()[:1]), "text/csv")},
            headers={"Authorization": f"Bearer {web.accounts.api_token}"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == 1

    def test_api_bulk_refuses_other_content_and_anonymous_callers(self, web: Web) -> None:
        auth = {"Authorization": f"Bearer {web.accounts.api_token}"}
        json_body = web.client.post("/api/v1/notifications/bulk", json={}, headers=auth)
        assert json_body.status_code == 415
        anonymous = web.client.post(
            "/api/v1/notifications/bulk", content=b"a,b\n", headers={"Content-Type": "text/csv"}
        )
        assert anonymous.status_code == 401

    def test_api_bulk_refuses_import_only_columns(self, web: Web) -> None:
        row = {**self.rows()[0]}
        content = csv_upload([row]).decode().splitlines()
        content[0] += ",received_at"
        content[1] += ",2020-01-01T00:00:00Z"
        response = web.client.post(
            "/api/v1/notifications/bulk",
            content="\r\n".join(content).encode(),
            headers={
                "Authorization": f"Bearer {web.accounts.api_token}",
                "Content-Type": "text/csv",
            },
        )
        row_report = response.json()["rows"][0]
        assert row_report["status"] == "rejected"
        assert row_report["errors"][0]["code"] == "import_only_column"


def test_large_upload_shows_a_progress_page_that_refreshes(web: Web, monkeypatch: Any) -> None:
    from meldplicht.notifications import bulk
    from meldplicht.web import employer

    monkeypatch.setattr(employer, "SYNC_ROWS", 2)
    monkeypatch.setattr(bulk, "BATCH_SIZE", 2)
    web.login()
    rows = [
        {**form_values(), "external_reference": f"P-{i}", "worker_bsn": bsn}
        for i, bsn in enumerate(VALID_BSNS[:5])
    ]
    token = csrf_from(web.client.get("/employer/bulk").text)
    first = web.client.post(
        "/employer/bulk",
        data={"csrf_token": token},
        files={"file": ("staff.csv", csv_upload(rows), "text/csv")},
        follow_redirects=False,
    )
    assert first.status_code == 303
    job = first.headers["location"]
    page = web.client.get(job).text
    if 'http-equiv="refresh"' in page:  # still working: a progress page without script
        assert "<progress" in page
    deadline = time.monotonic() + 30
    while 'http-equiv="refresh"' in page and time.monotonic() < deadline:
        time.sleep(0.2)
        page = web.client.get(job).text
    assert re.findall(r'<strong class="count[^"]*">(\d+)</strong>', page)[:2] == [
        str(len(rows)),
        str(len(rows)),
    ], page
