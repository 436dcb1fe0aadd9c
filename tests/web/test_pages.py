"""The shared page infrastructure: texts in every language, the worker page, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meldplicht.web import i18n
from tests.web.conftest import Web

TEMPLATES = Path(i18n.__file__).parent / "templates"
# Whole keys only: t("lang." ~ code) builds its key at run time.
KEY_IN_TEMPLATE = re.compile(r"""\bt\(\s*["']([a-z0-9_.]*[a-z0-9_])["']\s*[,)]""")


def template_keys() -> set[str]:
    keys: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        keys.update(KEY_IN_TEMPLATE.findall(path.read_text("utf-8")))
    return keys


def test_dutch_and_english_have_the_same_texts() -> None:
    assert set(i18n.catalogue("nl")) == set(i18n.catalogue("en"))


def test_ukrainian_covers_the_worker_page_and_the_layout() -> None:
    uk = set(i18n.catalogue("uk"))
    # Ukrainian has plural forms (few, many) Dutch and English lack; their text is the `.other`.
    english = set(i18n.catalogue("en"))
    plural_only = {k for k in uk if k.endswith((".few", ".many"))}
    assert {k.rsplit(".", 1)[0] + ".other" for k in plural_only} <= english
    assert uk - plural_only <= english
    worker_page = (TEMPLATES / "worker.html").read_text("utf-8")
    base = (TEMPLATES / "base.html").read_text("utf-8")
    needed = set(KEY_IN_TEMPLATE.findall(worker_page + base)) - {
        "nav.dashboard",
        "nav.new",
        "nav.bulk",
        "nav.inspector",
        "nav.signed_in_as",
        "nav.sign_out",
    }
    assert needed <= uk


def test_every_key_a_template_uses_exists() -> None:
    missing = template_keys() - set(i18n.catalogue("nl"))
    assert not missing


def test_templates_hold_no_hard_coded_words() -> None:
    # Text between tags must come from t(...); only punctuation and symbols are allowed.
    text_between_tags = re.compile(r">([^<{]*[A-Za-zА-Яа-яЇїІіЄєҐґ][^<{]*)<")
    for path in TEMPLATES.rglob("*.html"):
        source = re.sub(r"{#.*?#}", "", path.read_text("utf-8"), flags=re.S)
        found = [m.strip() for m in text_between_tags.findall(source) if m.strip()]
        allowed = {"KvK", "0800 5151", "nlarbeidsinspectie.nl", "fairwork.nu"}
        assert not [f for f in found if f not in allowed], (path.name, found)


@pytest.mark.parametrize("lang", ["uk", "en", "nl"])
def test_worker_page_is_public_in_three_languages(web: Web, lang: str) -> None:
    response = web.client.get(f"/worker?lang={lang}")
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in response.text
    assert "0800 5151" in response.text
    assert "FairWork" in response.text
    assert "25%" in response.text
    assert "€ 14," in response.text or "EUR 14." in response.text


def test_ukrainian_choice_falls_back_to_english_on_employer_pages(web: Web) -> None:
    web.client.get("/worker?lang=uk")
    assert '<html lang="en">' in web.client.get("/login").text


def test_unknown_page_is_an_html_404(web: Web) -> None:
    response = web.client.get("/employer/nothing-here")
    assert response.status_code in (303, 404)
    web.login()
    response = web.client.get("/employer/notifications/6d2c3c0e-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "niet gevonden" in response.text


def test_home_sends_each_role_to_its_pages(web: Web) -> None:
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/login"
    web.login()
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/employer/"
