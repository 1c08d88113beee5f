"""A person in Arabic, on a 360 px phone, with JavaScript off: writes, keeps the
receipt, comes back, reads the volunteer's reply, answers, deletes the case."""

from helpdesk.models import Case, Message
from helpdesk.roles import Role
from resources.loader import load_resources
from tests.browser.conftest import PHONE, assert_accessible, screenshot
from tests.conftest import make_staff


def test_arabic_submitter_on_a_phone_without_javascript(
    transactional_db, live_server, context_factory
):
    load_resources()
    volunteer = make_staff("amira@example.org", Role.VOLUNTEER, first_name="Amira")
    context = context_factory(javascript=False, viewport=PHONE, locale="ar")
    page = context.new_page()

    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert_accessible(page)
    screenshot(page, "intake-ar-01-start")

    page.locator("a[href='/write/?for=self']").click()
    assert page.locator("#id_for_whom_0").is_checked()
    assert_accessible(page)
    screenshot(page, "intake-ar-02-form")

    # Send it half-filled first: errors appear next to their fields, text is kept.
    page.locator("#id_description").fill("أنا في خطر في بلدي")
    page.locator("button[type=submit].button--big").click()
    assert page.locator(".field--error").count() >= 3
    assert page.locator("#id_description").input_value() == "أنا في خطر في بلدي"
    assert_accessible(page)
    screenshot(page, "intake-ar-03-errors")

    page.locator("#id_need_2").check()  # asylum in Belgium
    page.locator("#id_country").select_option("SY")
    page.locator("#id_language_1").select_option("ar")
    page.locator("#id_in_danger_0").check()
    page.locator("#id_consent").check()
    page.locator("button[type=submit].button--big").click()

    receipt = page.locator("#receipt-code").input_value()
    assert len(receipt) == 29  # 24 characters in six groups of four
    assert page.locator("[data-copy]").is_hidden()  # the copy button needs JavaScript
    assert page.locator(".guidance").count() >= 1  # help starts before anyone answers
    assert_accessible(page)
    screenshot(page, "intake-ar-04-receipt")

    case = Case.objects.get()
    assert case.language == "ar" and case.languages == ["ar"]
    case.claim(by=volunteer)
    case.reply("مرحبا، قرأنا رسالتك.", by=volunteer)

    # Another day: a new visit, the receipt typed sloppily.
    page = context_factory(javascript=False, viewport=PHONE, locale="ar").new_page()
    page.goto(live_server.url + "/follow-up/")
    assert_accessible(page)
    page.locator("#id_receipt").fill(receipt.lower().replace("-", " "))
    page.locator("main form button[type=submit]").click()
    assert "مرحبا، قرأنا رسالتك." in page.content()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert_accessible(page)
    screenshot(page, "intake-ar-05-inbox")

    page.locator("#id_body").fill("شكرا لكم")
    page.locator("main form.panel button[type=submit]").first.click()
    assert Message.objects.filter(case=case, author=Message.Author.SUBMITTER).count() == 1
    assert "شكرا لكم" in page.content()

    page.locator("a[href='/follow-up/delete/']").click()
    assert_accessible(page)
    screenshot(page, "intake-ar-06-delete")
    page.locator("main form button[type=submit]").click()
    assert_accessible(page)
    screenshot(page, "intake-ar-07-deleted")
    case.refresh_from_db()
    assert case.content_destroyed and not case.messages.exists()
