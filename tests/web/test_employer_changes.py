"""Change notices on the pages (prefilled, with a check step) and re-hire / copy."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from meldplicht.alerts import outbox
from meldplicht.alerts.models import AlertChannel
from meldplicht.core.config import Environment, Settings
from meldplicht.notifications.models import Notification, NotificationVersion
from tests.factories import day
from tests.web.conftest import Web, csrf_from, form_values
from tests.web.test_employer import change_form_values, submit_notification

NEW = "/employer/notifications/new"


def post(web: Web, path: str, data: dict[str, str], form_path: str | None = None) -> Any:
    token = csrf_from(web.client.get(form_path or path).text)
    response = web.client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
    location = response.headers.get("location", "")
    if data.get("action", "review") == "review" and "/confirm?draft=" in location:
        return web.client.get(location, follow_redirects=False)  # Post/Redirect/Get
    return response


def notifications(web: Web) -> list[Notification]:
    with Session(web.engine) as session:
        return list(session.exec(select(Notification).order_by(Notification.received_at)))


def first(web: Web) -> str:
    web.login()
    return submit_notification(web, form_values()).removesuffix("/receipt")


class TestChangeOfWorkLocation:
    def test_prefilled_checked_then_sent(self, web: Web) -> None:
        base = first(web)
        form = web.client.get(f"{base}/change").text
        assert 'name="location_street" type="text" value="Tuinbouwweg"' in form
        # "Per" belongs to a wage that is always stated: never marked optional.
        label = re.search(r'<label for="wage_period">(.*?)</label>', form)
        assert label
        assert "niet verplicht" not in label.group(1)
        values = change_form_values(form)
        values.update(
            effective_date=day(5),
            location_street="Havenweg",
            location_house_number="3",
            location_postcode="3011AA",
            location_city="Rotterdam",
            reason="Ander werkadres",
            action="review",
        )
        check = post(web, f"{base}/change", values, f"{base}/change")
        assert check.status_code == 200, check.text
        assert "Tuinbouwweg" in check.text
        assert "Havenweg" in check.text
        assert "Dit veld is verplicht" not in check.text
        assert notifications(web)[0].version == 1
        sid = re.search(r'name="submission_id" value="([0-9a-f]+)"', check.text)
        assert sid
        values.update(action="submit", submission_id=sid.group(1))
        sent = post(web, f"{base}/change", values, f"{base}/change")
        assert sent.status_code == 303
        again = post(web, f"{base}/change", values, f"{base}/change")  # Send pressed twice
        assert again.status_code == 303
        with Session(web.engine) as session:
            versions = list(session.exec(select(NotificationVersion)))
        assert len(versions) == 2
        assert set(versions[-1].changes) == {"work_locations"}
        assert versions[-1].declaration["work_locations"][0]["postcode"] == "3011 AA"

    def test_period_only_without_amount_is_no_error(self, web: Web) -> None:
        base = first(web)
        values = change_form_values(web.client.get(f"{base}/change").text)
        values.update(effective_date=day(5), wage_period="week", wage_amount="620,00")
        check = post(web, f"{base}/change", values, f"{base}/change")
        assert check.status_code == 200, check.text
        assert "Dit veld is verplicht" not in check.text


class TestRehireAndCopy:
    def test_rehire_keeps_the_bsn_on_the_server(self, web: Web) -> None:
        base = first(web)
        nid = base.rsplit("/", 1)[1]
        form = web.client.get(f"{NEW}?rehire={nid}").text
        assert "111222333" not in form
        assert "eindigend op 333" in form
        assert 'name="worker_given_names" type="text" value="Olena"' in form
        assert 'name="start_date-day" type="text" inputmode="numeric" size="2" value=""' in form
        values = change_form_values(form)
        values.update(
            worker_ref=nid,
            start_date=day(200),
            end_date=day(260),
            declaration_truthful="true",
            action="review",
        )
        review = post(web, NEW, values)
        assert review.status_code == 200, review.text
        assert "111222333" not in review.text
        sid = re.search(r'name="submission_id" value="([0-9a-f]+)"', review.text)
        assert sid
        sent = post(web, NEW, {**values, "action": "submit", "submission_id": sid.group(1)})
        assert sent.status_code == 303, sent.text
        old, new = notifications(web)
        assert old.worker_id == new.worker_id

    def test_copy_takes_the_work_not_the_worker(self, web: Web) -> None:
        nid = first(web).rsplit("/", 1)[1]
        form = web.client.get(f"{NEW}?copy={nid}").text
        assert 'name="worker_given_names" type="text" value=""' in form
        assert 'name="job_title" type="text" value="Productiemedewerker"' in form
        assert "worker_ref" not in form

    def test_another_employers_notification_is_404(self, web: Web) -> None:
        nid = first(web).rsplit("/", 1)[1]
        web.client.post("/logout", data={"csrf_token": web.csrf("/employer/")})
        web.client.cookies.clear()
        web.login("snel")
        assert web.client.get(f"{NEW}?rehire={nid}").status_code == 404
        assert web.client.get(f"{NEW}?copy={nid}").status_code == 404
        values = form_values(worker_bsn="", worker_ref=nid, action="review")
        assert post(web, NEW, values).status_code == 404


def test_dashboard_shows_action_needed(web: Web) -> None:
    web.login()
    submit_notification(web, form_values(wage_amount="9.00"))
    page = web.client.get("/employer/").text
    assert "Actie nodig" in page
    assert "minimumloon" in page.split("Actie nodig")[1].split("</section>")[0].lower()


def test_the_alerts_page_lists_subscriptions_and_the_log(web: Web) -> None:
    settings = Settings(
        environment=Environment.TEST,
        database_url=str(web.engine.url),
        _env_file=None,  # type: ignore[call-arg]
    )
    with Session(web.engine) as session, session.begin():
        outbox.subscribe(
            session, settings, web.accounts.employer_id, AlertChannel.EMAIL, "hr@x.example"
        )
    web.login()
    page = web.client.get("/employer/alerts")
    assert page.status_code == 200
    assert "hr@x.example" in page.text
    assert "Er is nog niets verzonden." in page.text


class TestChangeCheckIsAGet:
    """Post/Redirect/Get for the change notice: the check page is a GET of a draft kept in
    the session, sending redirects, and the check page after sending leads to the notice."""

    def check(self, web: Web) -> tuple[str, dict[str, str], str]:
        base = first(web)
        values = change_form_values(web.client.get(f"{base}/change").text)
        values.update(effective_date=day(5), job_title="Teamleider", action="review")
        token = csrf_from(web.client.get(f"{base}/change").text)
        response = web.client.post(
            f"{base}/change", data={**values, "csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        location: str = response.headers["location"]
        assert location.startswith(f"{base}/change/confirm?draft=")
        assert "Teamleider" not in location  # only the draft's id is in the address
        return base, values, location

    def test_check_page_is_a_get_that_reloads(self, web: Web) -> None:
        _, _, location = self.check(web)
        for _ in range(2):
            page = web.client.get(location)
            assert page.status_code == 200
            assert "Controleer de wijziging" in page.text
            assert "Teamleider" in page.text
        assert notifications(web)[0].version == 1

    def test_send_redirects_and_the_check_page_then_leads_to_the_notice(self, web: Web) -> None:
        base, values, location = self.check(web)
        page = web.client.get(location).text
        sid = re.search(r'name="submission_id" value="([0-9a-f]+)"', page)
        assert sid
        assert location.endswith(sid.group(1))
        values.update(action="submit", submission_id=sid.group(1))
        sent = post(web, f"{base}/change", values, location)
        assert sent.status_code == 303
        assert sent.headers["location"] == f"{base}?done=changed"
        back = web.client.get(location, follow_redirects=False)  # Back to the check page
        assert back.status_code == 303
        assert back.headers["location"] == f"{base}?done=changed"
        assert notifications(web)[0].version == 2

    def test_change_link_reopens_the_form_with_the_checked_values(self, web: Web) -> None:
        _, _, location = self.check(web)
        page = web.client.get(location).text
        edit = re.search(r'href="([^"]*/change\?draft=[0-9a-f]+)"', page)
        assert edit
        form = web.client.get(edit.group(1).replace("&amp;", "&")).text
        assert 'name="job_title" type="text" value="Teamleider"' in form

    def test_unknown_or_foreign_draft_goes_back_to_the_form(self, web: Web) -> None:
        base, _, location = self.check(web)
        stale = web.client.get(f"{base}/change/confirm?draft=0123", follow_redirects=False)
        assert stale.status_code == 303
        assert stale.headers["location"] == f"{base}/change"
        # Another employer cannot open this notice's check page at all.
        web.client.post("/logout", data={"csrf_token": web.csrf("/employer/")})
        web.client.cookies.clear()
        web.login("snel")
        assert web.client.get(location, follow_redirects=False).status_code == 404
