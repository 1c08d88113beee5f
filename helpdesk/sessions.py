"""Staff sessions end after 30 idle minutes and after 12 hours whatever happens.

The last-seen time is written back at most once a minute: storing it on every request
would make every staff page end with a write to the session store. A session may
therefore end up to a minute before a full idle period has passed, never after."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

STARTED_KEY = "haven_started"
SEEN_KEY = "haven_seen"
SEEN_REFRESH_SECONDS = 60


class StaffSessionTimeoutMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            started = request.session.setdefault(STARTED_KEY, now)
            seen = request.session.get(SEEN_KEY, now)
            if (
                now - seen > settings.STAFF_SESSION_IDLE_SECONDS
                or now - started > settings.STAFF_SESSION_MAX_SECONDS
            ):
                logout(request)
                messages.info(request, _("Your session ended. Please sign in again."))
                return redirect(settings.LOGIN_URL)
            if now - seen >= SEEN_REFRESH_SECONDS or SEEN_KEY not in request.session:
                request.session[SEEN_KEY] = now
        response = self.get_response(request)
        if request.user.is_authenticated and STARTED_KEY not in request.session:
            # This request signed someone in: the 12 hours start now.
            now = int(time.time())
            request.session[STARTED_KEY] = request.session[SEEN_KEY] = now
        return response
