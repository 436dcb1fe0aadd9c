"""Small things that matter on the employer's pages: nationalities from the ISO 3166 list,
the favicon, the API docs served from this server."""

from __future__ import annotations

import re

import pytest

from tests.factories import notification_body, with_worker
from tests.web.conftest import Web, form_values
from tests.web.test_employer import NEW, post_form


@pytest.mark.parametrize(("lang", "ukraine"), [("nl", "Oekraïne"), ("en", "Ukraine")])
def test_nationality_is_chosen_from_the_iso_list_in_the_page_language(
    web: Web, lang: str, ukraine: str
) -> None:
    web.login()
    html = web.client.get(f"{NEW}?lang={lang}").text
    select = re.search(r'<select[^>]*id="worker_nationality".*?</select>', html, re.S)
    assert select, "nationality is not a list to choose from"
    options = re.findall(r'<option value="([A-Z]{3})"', select.group(0))
    assert len(options) >= 249
    assert f'<option value="UKR" selected>{ukraine}</option>' in select.group(0)


def test_a_made_up_nationality_is_refused_on_the_form_and_the_api(web: Web) -> None:
    web.login()
    response = post_form(web, form_values(worker_nationality="Oek"), "review")
    assert response.status_code == 422
    assert "ISO 3166-1" in response.text
    api = web.client.post(
        "/api/v1/notifications",
        json=with_worker(notification_body(), nationality="OEK"),
        headers={"Authorization": f"Bearer {web.accounts.api_token}", "Idempotency-Key": "k1"},
    )
    assert api.status_code == 422
    errors = {e["field"]: e["code"] for e in api.json()["errors"]}
    assert errors == {"worker.nationality": "invalid_nationality"}
    for code in ("UKR", "XXA"):  # a country, and stateless (ICAO)
        ok = post_form(web, form_values(worker_nationality=code), "review")
        assert ok.status_code == 200, ok.text


def test_the_api_docs_load_nothing_from_a_cdn(web: Web) -> None:
    for path in ("/docs", "/redoc"):
        html = web.client.get(path).text
        assert "cdn." not in html
        assert "fonts.googleapis" not in html
        scripts = re.findall(r'src="([^"]+)"', html)
        assert scripts
        for src in scripts:
            assert src.startswith("/"), src
            assert web.client.get(src).status_code == 200
        csp = web.client.get(path).headers["content-security-policy"]
        assert "default-src 'self'" in csp


def test_favicon(web: Web) -> None:
    assert 'rel="icon" href="/static/favicon.svg"' in web.client.get("/login").text
    icon = web.client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("14031995", "1995-03-14"),
        ("14-03-1995", "1995-03-14"),
        ("1/2/2027", "2027-02-01"),
        ("14.3.1995", "1995-03-14"),
        ("1995-03-14", "1995-03-14"),
        ("morgen", "morgen"),
    ],
)
def test_a_typed_date_is_read_in_dutch_order(typed: str, iso: str) -> None:
    from meldplicht.web.forms import typed_date

    assert typed_date(typed) == iso


def test_the_form_asks_day_month_year_and_joins_them(web: Web) -> None:
    web.login()
    html = web.client.get(NEW).text
    for part in ("day", "month", "year"):
        assert f'name="worker_birth_date-{part}"' in html
    assert 'type="date"' not in html
    values = form_values()
    values.pop("worker_birth_date")
    parts = {
        "worker_birth_date-day": "14",
        "worker_birth_date-month": "3",
        "worker_birth_date-year": "1995",
    }
    review = post_form(web, values, "review", **parts)
    assert review.status_code == 200, review.text
    assert "14 maart 1995" in review.text
    assert 'name="worker_birth_date" value="1995-03-14"' in review.text
    wrong = post_form(
        web,
        values,
        "review",
        **{**parts, "worker_birth_date-day": "31", "worker_birth_date-month": "2"},
    )
    assert wrong.status_code == 422
    # What was typed comes back in its own boxes, with the error beside it.
    assert 'name="worker_birth_date-day" type="text" inputmode="numeric" size="2" value="31"' in (
        wrong.text
    )
    assert 'href="#worker_birth_date"' in wrong.text
