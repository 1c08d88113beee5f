"""While the database cannot be reached, a person gets a calm page in their language,
with what they typed still in the form: never an error page, never a lost message."""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from helpdesk.models import Case
from intake import library
from tests.intake.conftest import CANARY, concern, receipt_in


@contextmanager
def database_down():
    """Every new cursor fails as it does when PostgreSQL refuses connections."""

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    connection._cursor = refuse  # on the instance, over the class's method
    try:
        yield
    finally:
        # Deleted, not set back: a bound method left on the instance would outlive
        # the test and shadow any later patch of the class (tests/browser/test_outage.py).
        del connection._cursor


def assert_calm(response, *, phrase: str) -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert phrase in page
    assert "Traceback" not in page and "Server Error" not in page
    assert "Leave this site quickly" in page or "مغادرة الموقع بسرعة" in page
    return page


def test_a_posted_concern_comes_back_as_typed_with_a_calm_page(client, db):
    client.get(reverse("intake:write"))  # this process has seen the form once
    data = concern(country="UG", language_2="fr", need=None) | {"need": "3"}
    with database_down():
        response = client.post(reverse("intake:write"), data, follow=True)
    page = assert_calm(response, phrase="We could not save this just now")
    assert CANARY in page  # the text, to send again with one click
    assert '<option value="UG" selected>' in page
    assert '<option value="fr" selected>' in page
    assert 'value="3" checked' in page or 'value="3"' in page
    assert f'value="{data["submission_key"]}"' in page  # resending cannot make two cases
    assert 'name="consent"' in page and "checked" in page
    assert not Case.objects.exists()


def test_the_calm_page_speaks_the_visitors_language_right_to_left(client, db):
    client.get(reverse("intake:write"), HTTP_ACCEPT_LANGUAGE="ar")
    data = concern()
    with database_down():
        response = client.post(
            reverse("intake:write"), data, HTTP_ACCEPT_LANGUAGE="ar", follow=True
        )
    page = assert_calm(response, phrase="تعذّر علينا حفظ هذا الآن")
    assert '<html lang="ar" dir="rtl">' in page
    assert CANARY in page


def test_a_process_that_never_reached_the_database_still_keeps_the_text(client, db):
    library.clear()
    data = concern(country="UG")
    with database_down():
        response = client.post(reverse("intake:write"), data, follow=True)
        page = assert_calm(response, phrase="We could not save this just now")
        assert CANARY in page
        assert '<option value="UG" selected>' in page  # countries need no database
        need = str(data["need"])
        assert f'<input type="hidden" name="need" value="{need}">' in page  # kept, unseen
        assert "Select a valid choice" not in page
        get = client.get(reverse("intake:write"))
        assert_calm(get, phrase="We could not open this page just now")


def test_the_form_page_itself_renders_from_memory(client, db):
    client.get(reverse("intake:write"))
    with database_down():
        response = client.get(reverse("intake:write"))
    assert response.status_code == 200
    assert "What kind of help?" in response.content.decode()


def test_a_public_page_that_needs_the_database_says_try_again(client, library):
    with database_down():
        response = client.get("/guide/asylum-be/")
    page = assert_calm(response, phrase="We could not open this page just now")
    assert 'href="/guide/asylum-be/"' in page


def test_an_answer_from_the_inbox_is_kept_when_it_cannot_be_saved(submit):
    visitor = Client()
    visitor.post(reverse("intake:follow_up"), {"receipt": receipt_in(submit())})
    with database_down():
        response = visitor.post(reverse("intake:inbox"), {"body": f"my answer {CANARY}"})
    page = assert_calm(response, phrase="We could not save this just now")
    assert f"my answer {CANARY}" in page
    assert f'action="{reverse("intake:inbox")}"' in page
    # The inbox is still open once the database is back, and the answer can be sent.
    assert visitor.post(reverse("intake:inbox"), {"body": "again"}).status_code == 302
    assert Case.objects.get().messages.get().body == "again"


def test_a_receipt_typed_during_the_outage_stays_in_the_form(client, db):
    with database_down():
        response = client.post(reverse("intake:follow_up"), {"receipt": "7K2M-XQ4P-AAAA-BBBB-CCCC"})
    page = assert_calm(response, phrase="We could not save this just now")
    assert 'value="7K2M-XQ4P-AAAA-BBBB-CCCC"' in page


def test_against_a_postgresql_that_is_not_listening(tmp_path):
    """A real server process, its database URL pointing at a closed port: the form
    renders and a submission comes back calm, as typed."""
    script = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
form = client.get("/write/")
print("GET", form.status_code)
answer = client.post("/write/", {"description": "TYPED-TEXT-5f1", "country": "UG",
    "language_1": "fr", "need": "1", "consent": "on"})
print("POST", answer.status_code, answer.get("Retry-After"))
page = answer.content.decode()
print("TEXT", "TYPED-TEXT-5f1" in page, '<option value="UG" selected>' in page)
print("CALM", "We could not save this just now" in page)
"""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/haven_nowhere",
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": "",
        "HAVEN_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "ERROR",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script],
        cwd=Path(settings.BASE_DIR),
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "GET 503" in lines  # nothing typed yet, and no needs to offer
    assert "POST 503 60" in lines
    assert "TEXT True True" in lines
    assert "CALM True" in lines


def test_once_the_case_is_saved_the_receipt_needs_no_database(client, db, monkeypatch):
    """If the database went away between saving the case and showing its receipt, the
    case would exist with a receipt nobody ever saw: the receipt page must need nothing
    more from the database than the saving itself."""
    from helpdesk import cases

    save = cases.submit_concern

    lost = database_down()

    def save_then_lose_the_database(**kwargs):
        case = save(**kwargs)
        lost.__enter__()
        return case

    monkeypatch.setattr(cases, "submit_concern", save_then_lose_the_database)
    try:
        response = client.post(
            reverse("intake:write"), concern(need=None) | {"need": "3"}, follow=True
        )
    finally:
        lost.__exit__(None, None, None)
    monkeypatch.undo()
    assert response.status_code == 200
    assert receipt_in(response)
    assert Case.objects.count() == 1
