"""The submitter's inbox session: which case this browser may read, for how long.

The receipt is typed once and never kept; the session holds only the case's id, whether
it was opened with the second code (a decoy session, which never reaches the case's
content), and the time of the last request. It ends after INBOX_IDLE_SECONDS or when
they leave."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest

from helpdesk.headers import mark_session_ended
from helpdesk.models import Case

CASE_KEY = "inbox_case"
DECOY_KEY = "inbox_decoy"
SEEN_KEY = "inbox_seen"


def open_inbox(request: HttpRequest, case: Case, *, decoy: bool = False) -> None:
    # The same keys whichever code opened it: the session's shape tells nothing either.
    request.session.cycle_key()
    request.session[CASE_KEY] = case.pk
    request.session[DECOY_KEY] = decoy
    request.session[SEEN_KEY] = int(time.time())


def _open_case_id(request: HttpRequest) -> int | None:
    """The session's case id while it is open; closes an idle one."""
    case_id = request.session.get(CASE_KEY)
    if case_id is None:
        return None
    now = int(time.time())
    if now - request.session.get(SEEN_KEY, 0) > settings.INBOX_IDLE_SECONDS:
        close_inbox(request)
        return None
    request.session[SEEN_KEY] = now
    return case_id


def inbox_case(request: HttpRequest) -> Case | None:
    """The case of a real inbox session; never the case behind a decoy."""
    if request.session.get(DECOY_KEY):
        return None
    case_id = _open_case_id(request)
    if case_id is None:
        return None
    case = Case.objects.with_content().select_related("need").filter(pk=case_id).first()
    if case is None:
        close_inbox(request)
    return case


def decoy_case_id(request: HttpRequest) -> int | None:
    """The id of the case behind a decoy session (opened with the second code). Only the
    code's retirement uses it; nothing of the case is ever read for the decoy."""
    if not request.session.get(DECOY_KEY):
        return None
    return _open_case_id(request)


def close_inbox(request: HttpRequest) -> None:
    """End the inbox session; the browser is asked to clear what the site left."""
    request.session.flush()
    mark_session_ended(request)
