"""A person in Persian, on a phone, sends the form while the database is away: a calm
page in their language with everything they wrote, and one click sends it again once
the database is back."""

from django.db import OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from helpdesk.models import Case
from resources.loader import load_resources
from tests.browser.conftest import PHONE, assert_accessible, screenshot

CALM = "همین حالا نتوانستیم این را ذخیره کنیم"  # "We could not save this just now"
WRITTEN = "همسایه‌ها تهدیدم کرده‌اند و نمی‌دانم به کجا بروم."


def test_a_persian_submitter_keeps_what_they_wrote_while_the_database_is_away(
    transactional_db, live_server, context_factory, monkeypatch
):
    load_resources()
    page = context_factory(viewport=PHONE, locale="fa").new_page()
    page.goto(live_server.url + "/write/?for=self")
    page.locator("#id_need_2").check()
    page.locator("#id_country").select_option("IR")
    page.locator("#id_language_1").select_option("fa")
    page.locator("#id_in_danger_1").check()
    page.locator("#id_description").fill(WRITTEN)
    page.locator("#id_consent").check()

    def refused(*args, **kwargs):
        raise OperationalError("connection refused")

    # Every connection of every thread, the live server's included, now fails as it
    # does when PostgreSQL refuses connections (an in-memory SQLite database shares
    # this thread's connection with the live server: patched on the instance too).
    monkeypatch.setattr(BaseDatabaseWrapper, "_cursor", refused)
    for connection in connections.all():
        monkeypatch.setattr(connection, "_cursor", refused)
    with page.expect_response(lambda response: response.request.method == "POST") as sent:
        page.locator("button[type=submit].button--big").click()
    assert sent.value.status == 503
    assert CALM in page.content()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("#id_description").input_value() == WRITTEN
    assert page.locator("#id_country").input_value() == "IR"
    assert page.locator("#id_consent").is_checked()
    assert_accessible(page)
    screenshot(page, "outage-fa-01-try-again")

    monkeypatch.undo()  # the database is back
    for connection in connections.all():
        connection.__dict__.pop("_cursor", None)  # undo() leaves a bound method behind
    page.locator("button[type=submit].button--big").click()
    assert len(page.locator("#receipt-code").input_value()) == 29  # six groups of four
    screenshot(page, "outage-fa-02-receipt")
    case = Case.objects.get()
    assert case.description == WRITTEN and case.country == "IR"
