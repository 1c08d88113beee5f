"""The public self-help guide on a 360 px phone, in English and in Arabic (right to
left, and with JavaScript off): readable, no sideways scrolling, axe-core clean."""

import pytest

from resources.loader import load_resources
from resources.models import GuidanceTranslation, OrganisationTranslation
from tests.browser.conftest import PHONE, assert_accessible, screenshot

PAGES = [
    ("index", "/guide/"),
    ("asylum-be", "/guide/asylum-be/"),
    ("friend", "/guide/friend/"),
    ("leave-friend", "/guide/leave/friend/"),
]


def assert_fits_the_screen(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


@pytest.mark.parametrize(
    "language, direction, javascript, situation",
    [
        ("en", "ltr", True, "Asylum in Belgium"),
        ("ar", "rtl", False, "اللجوء في بلجيكا"),
    ],
)
def test_self_help_pages_on_a_phone(
    transactional_db,
    live_server,
    context_factory,
    language,
    direction,
    javascript,
    situation,
):
    load_resources()
    page = context_factory(viewport=PHONE, locale=language, javascript=javascript).new_page()
    page.set_default_timeout(15_000)

    for name, path in PAGES:
        page.goto(live_server.url + path)
        html = page.locator("html")
        assert (html.get_attribute("lang"), html.get_attribute("dir")) == (language, direction)
        assert page.locator("a[data-quick-exit]").is_visible()
        assert_fits_the_screen(page)
        assert_accessible(page)
        screenshot(page, f"guide-{language}-{name}")

    # What to do in danger opens in place, with or without JavaScript.
    page.goto(live_server.url + "/guide/")
    urgent = page.locator(".urgent__more .guidance__body")
    assert not urgent.is_visible()
    page.locator(".urgent__more summary").click()
    assert urgent.is_visible()

    # A person finds their situation from the start page and lands on its guidance,
    # each piece written in their language and laid out in its direction.
    page.get_by_role("link", name=situation).first.click()
    page.wait_for_url("**/guide/asylum-be/")
    assert page.get_by_role("heading", level=1).inner_text() == situation
    pieces = page.locator("article.guidance > div[lang]")
    assert pieces.count() >= 4
    assert set(pieces.evaluate_all("els => els.map(e => e.lang + ' ' + e.dir)")) == {
        f"{language} {direction}"
    }


def test_a_fallback_to_english_is_said_and_laid_out_left_to_right(
    transactional_db, live_server, context_factory
):
    # Persian: a right-to-left page; here the library's texts are not (yet) in Persian,
    # so every piece is an English fallback inside it.
    load_resources()
    GuidanceTranslation.objects.filter(language_id="fa").delete()
    OrganisationTranslation.objects.filter(language_id="fa").delete()
    page = context_factory(viewport=PHONE, locale="fa", javascript=False).new_page()
    page.set_default_timeout(15_000)

    page.goto(live_server.url + "/guide/asylum-be/")

    assert page.locator("html").get_attribute("dir") == "rtl"
    notes = page.locator("article.guidance .fallback-note")
    assert notes.count() == page.locator("article.guidance").count() >= 4
    assert "English" in notes.first.inner_text()
    pieces = page.locator("article.guidance > div[lang]")
    assert set(pieces.evaluate_all("els => els.map(e => e.lang + ' ' + e.dir)")) == {"en ltr"}
    assert_fits_the_screen(page)
    assert_accessible(page)
    screenshot(page, "guide-fa-asylum-be-fallback")
