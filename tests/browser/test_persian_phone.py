"""A Persian speaker on a 360 px phone with JavaScript off: reads the start page in
Persian, sends the form half-filled and is told what is missing (in Persian, with what
was typed kept), sends it, keeps the receipt, then leaves with the quick exit; Back shows
a blank form, never the receipt nor any sign that a message was sent."""

from django.urls import reverse

from helpdesk.models import Case
from resources.loader import load_resources
from tests.browser.conftest import PHONE, assert_accessible, screenshot

WORDS = "من در ایران فعال هستم و پلیس مرا تهدید کرده است"


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_persian_submitter_on_a_phone_without_javascript(
    transactional_db, live_server, context_factory
):
    load_resources()
    context = context_factory(javascript=False, viewport=PHONE, locale="fa")
    page = context.new_page()

    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fa"
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    screenshot(page, "intake-fa-01-start")

    page.locator("a[href='/write/?for=self']").click()
    page.locator("#id_description").fill(WORDS)
    page.locator("#id_contact_details").fill("+98 912 000 0000")
    page.locator("button[type=submit].button--big").click()

    # The errors: a summary at the top in Persian that links to each field, the words kept.
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert summary.locator("a[href^='#id_']").count() >= 3
    assert "This field is required" not in page.locator("main").inner_text()
    assert page.locator("#id_description").input_value() == WORDS
    assert page.locator("#id_contact_details").input_value() == "+98 912 000 0000"
    assert page.locator("#id_contact_details").get_attribute("dir") == "ltr"
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    screenshot(page, "intake-fa-02-errors")

    page.locator("#id_need_0").check()  # staying safe where they are
    page.locator("#id_country").select_option("IR")
    page.locator("#id_language_1").select_option("fa")
    page.locator("#id_in_danger_0").check()
    page.locator("#id_consent").check()
    page.locator("button[type=submit].button--big").click()

    receipt = page.locator("#receipt-code").input_value()
    assert len(receipt) == 29
    assert receipt not in page.url  # the receipt never travels in an address
    assert page.url.split("#")[0] == live_server.url + reverse("intake:write")
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    screenshot(page, "intake-fa-03-receipt")
    case = Case.objects.get()
    assert case.language == "fa" and case.country == "IR"

    # Someone comes in: the quick exit is a plain link without JavaScript. Back shows the
    # empty form, neither the receipt nor "we already received this message".
    page.route("https://www.wikipedia.org/**", lambda route: route.fulfill(body="elsewhere"))
    page.locator("[data-quick-exit]").click()
    page.wait_for_url("https://www.wikipedia.org/**")
    page.go_back()
    page.wait_for_load_state()
    assert page.locator("#receipt-code").count() == 0
    assert page.locator("#id_description").input_value() == ""
    assert receipt not in page.content()
    assert Case.objects.count() == 1  # Back re-posted nothing
    assert_accessible(page)
    screenshot(page, "intake-fa-04-back-after-exit")
