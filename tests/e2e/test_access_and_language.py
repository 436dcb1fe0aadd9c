"""Roles, the language switch and the public worker page, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from meldplicht.web import countries
from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser

# Words that are the same in Dutch and English (names, codes, loanwords); anything else that
# does not change with the language is a hard-coded text.
# Country names spelt alike in Dutch and English (Afghanistan, Malta): translated all the same.
SAME_COUNTRY_NAMES = set(dict(countries.choices("nl")).values()) & set(
    dict(countries.choices("en")).values()
)
SAME_IN_BOTH = {
    "meldplicht",
    "Nederlands",
    "English",
    "Українська",
    "Postcode",
    "Payroll",
    "O-document",
    "Per",
    "Status",
    "FairWork",
    "0800 5151",
    "nlarbeidsinspectie.nl",
    "fairwork.nu",
    "—",
    "Info",
    "KvK",
    "UKR",
    "april",
    "september",
    "november",
    "per week",
}

VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (!text) continue;
    const el = node.parentElement;
    if (el.closest('script,style,code')) continue;
    out.push(text);
  }
  return out;
}"""


def texts(page: Page, path: str, lang: str) -> list[str]:
    page.goto(f"{path}?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    result: list[str] = page.evaluate(VISIBLE_TEXTS)
    return result


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [
        ("/login", False),
        ("/worker", False),
        ("/employer/", True),
        ("/employer/notifications/new", True),
        ("/employer/bulk", True),
    ],
)
def test_language_switch_changes_every_visible_text(page: Page, path: str, signed_in: bool) -> None:
    if signed_in:
        sign_in(page)
    dutch = texts(page, path, "nl")
    english = texts(page, path, "en")
    assert len(dutch) == len(english)
    unchanged = (
        {nl for nl, en in zip(dutch, english, strict=True) if nl == en}
        - SAME_IN_BOTH
        - SAME_COUNTRY_NAMES
        - {"Anna (Kwekerij De Tuin B.V.)"}
    )
    assert not unchanged, f"texts that do not follow the language: {sorted(unchanged)}"
    # And the choice is remembered: the next page without ?lang= stays English.
    page.goto(path)
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{path}?lang=nl")


def test_language_links_work_without_script(page: Page) -> None:
    page.goto("/login")
    page.click(".lang-switch >> text=English")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.click(".lang-switch >> text=Nederlands")
    expect(page.locator("h1")).to_have_text("Inloggen")


def test_employer_is_refused_the_inspector_pages(page: Page) -> None:
    sign_in(page)
    response = page.goto("/inspector/")
    assert response is not None
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Geen toegang")
    screenshot(page, "10-inspector-refused")


def test_inspector_reaches_the_reserved_inspector_page(page: Page) -> None:
    sign_in(page, "inspecteur")
    expect(page.locator("h1")).to_have_text("Inspectie")
    response = page.goto("/employer/")
    assert response is not None
    assert response.status == 403


def test_worker_page_in_ukrainian_english_and_dutch(page: Page) -> None:
    page.goto("/worker?lang=uk")
    assert page.locator("html").get_attribute("lang") == "uk"
    expect(page.locator("h1")).to_contain_text("Ваша робота в Нідерландах")
    expect(page.locator("main")).to_contain_text("0800 5151")
    expect(page.locator("main")).to_contain_text("FairWork")
    expect(page.locator("main")).to_contain_text("25%")
    screenshot(page, "11-worker-uk")
    page.goto("/worker?lang=en")
    expect(page.locator("h1")).to_contain_text("what the notification means")
    page.goto("/worker?lang=nl")
    expect(page.locator("h1")).to_contain_text("wat de melding betekent")


def test_sign_in_page_and_failed_sign_in(page: Page) -> None:
    page.goto("/login")
    screenshot(page, "00-login")
    page.fill("#username", "tuin")
    page.fill("#password", "wrong password")
    page.click("button[type=submit] >> text=Inloggen")
    expect(page.locator(".error-summary")).to_contain_text("Inloggen is niet gelukt")
    expect(page.locator("#username")).to_have_value("tuin")
