"""The partner's page is public: it keeps what the other public pages keep (no-store,
the strict policy, no referrer), is rate-limited per address without storing one, and
its link's token reaches no log and no task."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client

from helpdesk.models import ReferralEvent
from tests.conftest import cache_keys
from tests.helpdesk.test_partners import sent

UNKNOWN = "/partner/" + "u" * 43 + "/"


@pytest.fixture
def link(volunteer):
    return sent(volunteer)[1]


@pytest.mark.parametrize("which", ["usable", "unknown"])
def test_partner_pages_are_not_stored_and_keep_the_strict_policy(client, link, which):
    response = client.get(link if which == "usable" else UNKNOWN)
    assert "no-store" in response["Cache-Control"]
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"
    page = response.content.decode()
    assert '<meta name="referrer" content="no-referrer">' in page
    # Nothing on it leads elsewhere (a link out would be the only way a token could
    # travel in a Referer; the policy forbids that too).
    assert 'href="http' not in page


def test_an_address_that_opens_too_many_pages_is_refused_for_a_while(link, settings):
    settings.PARTNER_PAGE_REQUESTS_PER_ADDRESS = 3
    flooder = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [flooder.get(UNKNOWN).status_code for _ in range(3)]
    assert statuses == [404, 404, 404]
    assert flooder.get(link).status_code == 429  # even with a good link, for a while
    assert Client(REMOTE_ADDR="198.51.100.4").get(link).status_code == 200
    assert not any("203.0.113.9" in key for key in cache_keys())


def test_the_links_token_reaches_no_log(link, volunteer):
    """Django names the path of a refused request ("Not Found: /partner/…/", a failed
    CSRF check); the console handler cuts the token out of every record."""
    handler = next(h for h in logging.getLogger("django").handlers if h.name == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        Client().get(link)
        Client().get(UNKNOWN)
        Client(enforce_csrf_checks=True).post(link, {"answer": "accepted"})
        Client().post(link, {"answer": "nonsense"})
        logging.getLogger("django.server").info('"GET %s HTTP/1.1" 200 512', link)
    finally:
        handler.setStream(previous)
    logged = stream.getvalue()
    assert "Not Found: /partner/…/" in logged and "Forbidden" in logged
    for token in (link.split("/")[2], UNKNOWN.split("/")[2]):
        assert token not in logged
    assert ReferralEvent.objects.filter(by_partner=True).count() == 0


def test_tasks_get_ids_never_the_token(link, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(
        "helpdesk.tasks.notify_partner_answer.delay", lambda *args: queued.append(args)
    )
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(link, {"answer": "acknowledged"})
    event = ReferralEvent.objects.get(by_partner=True)
    assert queued == [(event.pk,)]
