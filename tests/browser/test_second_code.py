"""A Persian submitter on a 360 px phone writes, makes a second code, and later opens the
decoy inbox with it in front of someone; Back after the quick exit shows a blank form."""

from django.urls import reverse

from helpdesk.models import Case
from helpdesk.roles import Role
from intake import decoy
from resources.loader import load_resources
from tests.browser.conftest import PHONE, assert_accessible, screenshot
from tests.conftest import make_staff


def test_a_persian_submitter_opens_the_decoy_inbox_on_a_phone(
    transactional_db, live_server, context_factory
):
    load_resources()
    volunteer = make_staff("sara@example.org", Role.VOLUNTEER, first_name="Sara")
    context = context_factory(viewport=PHONE, locale="fa")
    page = context.new_page()
    page.goto(live_server.url + "/write/?for=self")
    page.locator("#id_need_2").check()
    page.locator("#id_country").select_option("IR")
    page.locator("#id_language_1").select_option("fa")
    page.locator("#id_in_danger_1").check()
    page.locator("#id_description").fill("همسرم گوشی‌ام را می‌گردد و من در خطر هستم")
    page.locator("#id_consent").check()
    page.locator("button[type=submit].button--big").click()
    receipt = page.locator("#receipt-code").input_value()
    assert page.url.split("#")[0] == live_server.url + reverse("intake:write")  # redirected
    page.locator("form[action='/write/second-code/'] button").click()
    second = page.locator("#second-code").input_value()
    assert second != receipt and len(second) == 29
    assert page.locator("#receipt-code").input_value() == receipt
    assert_accessible(page)
    screenshot(page, "second-code-fa-01-codes")

    # The quick exit, then Back: a blank form, never the codes nor "already received".
    page.route("https://www.wikipedia.org/**", lambda route: route.fulfill(body="elsewhere"))
    page.locator("[data-quick-exit]").click()
    page.wait_for_url("https://www.wikipedia.org/**")
    page.go_back()
    assert page.locator("#receipt-code").count() == 0
    assert page.locator("#second-code").count() == 0
    assert page.locator("#id_description").input_value() == ""

    case = Case.objects.get()
    case.claim(by=volunteer)
    case.reply("سلام، پیام شما را خواندیم.", by=volunteer)

    # Another day, someone watching: the second code.
    watched = context_factory(viewport=PHONE, locale="fa").new_page()
    watched.goto(live_server.url + "/follow-up/")
    watched.locator("#id_receipt").fill(second)
    watched.locator("main form button[type=submit]").click()
    assert watched.url.split("#")[0] == live_server.url + reverse("intake:inbox")
    html = watched.content()
    assert watched.locator("html").get_attribute("dir") == "rtl"
    assert decoy.texts("fa")["answered"] in html
    for real in ("همسرم", "سلام، پیام شما را خواندیم", case.reference, "Haven"):
        assert real not in watched.locator("body").inner_text() + watched.title()
    assert watched.locator("[data-quick-exit]").count() == 0
    assert_accessible(watched)
    screenshot(watched, "second-code-fa-02-decoy-inbox")
    case.refresh_from_db()
    assert case.under_duress
