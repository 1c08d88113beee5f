"""The submitter's inbox session: which case this browser may read, for how long.

The receipt is typed once and never kept; the session holds only the case's id and the
time of the last request, and ends after INBOX_IDLE_SECONDS or when they leave."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest

from helpdesk.headers import mark_session_ended
from helpdesk.models import Case

CASE_KEY = "inbox_case"
SEEN_KEY = "inbox_seen"


def open_inbox(request: HttpRequest, case: Case) -> None:
    request.session.cycle_key()
    request.session[CASE_KEY] = case.pk
    request.session[SEEN_KEY] = int(time.time())


def inbox_case(request: HttpRequest) -> Case | None:
    case_id = request.session.get(CASE_KEY)
    if case_id is None:
        return None
    now = int(time.time())
    if now - request.session.get(SEEN_KEY, 0) > settings.INBOX_IDLE_SECONDS:
        close_inbox(request)
        return None
    case = Case.objects.with_content().select_related("need").filter(pk=case_id).first()
    if case is None:
        close_inbox(request)
        return None
    request.session[SEEN_KEY] = now
    return case


def close_inbox(request: HttpRequest) -> None:
    """End the inbox session; the browser is asked to clear what the site left."""
    request.session.flush()
    mark_session_ended(request)
