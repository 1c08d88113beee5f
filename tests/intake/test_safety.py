"""The public pages themselves: headers, no third-party origin, nothing in logs."""

import logging
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from helpdesk.models import Case
from tests.intake.conftest import CANARY, concern, receipt_in, second_code_in

PUBLIC_PAGES = ["/", "/write/", "/follow-up/", "/guide/", "/guide/friend/", "/guide/asylum-be/"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_sends_the_safety_headers(client, library, path):
    response = client.get(path)
    assert response.status_code == 200, path
    csp = response["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"
    page = response.content.decode()
    assert "Leave this site quickly" in page
    # Nothing is loaded from another origin: no external src, stylesheet or form action.
    assert not re.search(r'<(script|img|iframe|link)[^>]+(src|href)="(https?:)?//', page)
    assert not re.search(r'<form[^>]+action="(https?:)?//', page)


@pytest.mark.parametrize("path", ["/write/", "/follow-up/"])
def test_form_pages_are_not_cached(client, db, path):
    assert "no-store" in client.get(path)["Cache-Control"]


def test_inbox_and_receipt_are_not_cached(submit):
    response = submit()
    assert "no-store" in response["Cache-Control"]
    visitor = Client()
    visitor.post(reverse("intake:follow_up"), {"receipt": receipt_in(response)})
    assert "no-store" in visitor.get(reverse("intake:inbox"))["Cache-Control"]


def test_quick_exit_goes_to_the_configured_neutral_site(client, db, settings):
    settings.QUICK_EXIT_URL = "https://weather.example"
    settings.SITE_NAME = "Garden tips"
    page = client.get("/").content.decode()
    assert 'href="https://weather.example"' in page
    assert "<title>Ask for help · Garden tips</title>" in page


def test_no_content_receipt_or_address_reaches_logs_or_tasks(
    client, db, caplog, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        "helpdesk.tasks.route_case.delay", lambda *args, **kwargs: queued.append((args, kwargs))
    )
    caplog.set_level(logging.DEBUG)
    address = "203.0.113.250"
    agent = "UniqueAgent/1.0"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("intake:write"),
            concern(contact_channel="signal", contact_details=f"+000 {CANARY}"),
            REMOTE_ADDR=address,
            HTTP_USER_AGENT=agent,
            follow=True,
        )
    receipt = receipt_in(response)
    made = client.post(reverse("intake:second_code_after_writing"), {"receipt": receipt})
    second = second_code_in(client.get(made.url))
    visitor = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    visitor.post(reverse("intake:follow_up"), {"receipt": "WRONG-CODE-0000"})
    visitor.post(reverse("intake:follow_up"), {"receipt": second})
    visitor.post(reverse("intake:leave"))
    visitor.post(reverse("intake:follow_up"), {"receipt": receipt})
    visitor.post(reverse("intake:inbox"), {"body": f"reply {CANARY}"})
    visitor.post(reverse("intake:second_code"))

    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    for secret in (CANARY, receipt, second, address, agent):
        assert secret not in logged
        assert secret not in str(queued)
    case_id = Case.objects.get().pk
    assert queued == [((case_id,), {})]  # the routing task gets an id, nothing else


@pytest.mark.parametrize("how", ["leave", "delete"])
def test_a_submitter_closing_their_inbox_clears_it(submit, how):
    visitor = Client()
    visitor.post(reverse("intake:follow_up"), {"receipt": receipt_in(submit())})
    assert "Clear-Site-Data" not in visitor.get(reverse("intake:inbox"))
    if how == "leave":
        response = visitor.post(reverse("intake:leave"))
    else:
        response = visitor.post(reverse("intake:delete"), {"confirm": "yes"})
    assert "cookies" in response["Clear-Site-Data"]
    assert "storage" in response["Clear-Site-Data"]


@pytest.mark.parametrize("path", ["/", "/write/", "/follow-up/", "/accounts/login/"])
def test_every_page_denies_the_browser_features_it_never_needs(client, db, path):
    policy = dict(
        item.strip().split("=", 1) for item in client.get(path)["Permissions-Policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "display-capture"):
        assert policy[feature] == "()"
    # Only "Copy the code" on the receipt page may write to the clipboard, on this site.
    assert {f: v for f, v in policy.items() if v != "()"} == {"clipboard-write": "(self)"}


def test_a_first_visit_leaves_no_lasting_cookie(client, db):
    response = client.get("/")
    for cookie in response.cookies.values():
        assert not cookie["max-age"] and not cookie["expires"], cookie.key


def test_the_language_cookie_is_for_this_site_and_this_visit_only(client, db):
    response = client.post(reverse("set_language"), {"language": "fa", "next": "/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["max-age"] and not cookie["expires"]


def test_the_language_cookie_set_by_the_inbox_is_alike(submit, settings):
    settings.LANGUAGE_COOKIE_SECURE = True  # as in production, which is served over HTTPS
    visitor = Client()
    response = visitor.post(reverse("intake:follow_up"), {"receipt": receipt_in(submit())})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["secure"]
    assert not cookie["max-age"] and not cookie["expires"]


def test_the_language_can_be_changed_at_the_top_of_every_public_page(client, db):
    for url in ("/", "/write/", "/follow-up/", "/guide/"):
        page = client.get(url).content.decode()
        header = page.split("</header>")[0]
        assert 'id="language-select"' in header and 'action="/i18n/setlang/"' in header
        assert page.count('id="language-select"') == 1
