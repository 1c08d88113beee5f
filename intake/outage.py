"""While the database cannot be reached: a calm page, never an error page.

A visitor gets "please try again in a minute" in their language (503 with Retry-After),
and a form they sent comes back with everything they typed, so one click sends it
again. The page itself needs no database: the form's choices are kept in memory
(intake/library.py), the CSRF token lives in a cookie, and the messages a session
might hold are not read.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language

from intake import library

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60
# What an unreachable or restarting server raises (connection refused, terminated,
# "the database system is starting up"); not errors in a query.
UNAVAILABLE = (OperationalError, InterfaceError)


class DatabaseOutageMiddleware:
    """Place it after AuthenticationMiddleware: it loads the session and the user of a
    visitor who has a session first, so that a failure there also gets the calm page,
    and catches the same failures in every view."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.user.is_authenticated  # noqa: B018 - loads the session and user now
        except UNAVAILABLE as error:
            return unavailable(request, error)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, UNAVAILABLE):
            return unavailable(request, exception)
        return None


def unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    # The error's class only: its text can quote the query, and with it case content.
    logger.warning("Database unavailable (%s): answered 503", type(error).__name__)
    from intake.forms import ConcernForm, ReceiptForm, ReplyForm
    from intake.views import concern_page

    # Reading a session's messages would need the database. "Again" stays on this site
    # whatever the path looks like ("//host" or "/\\host" would leave it).
    again = "/" + request.get_full_path().lstrip("/\\")
    context = {"unavailable": True, "messages": (), "again": again}
    status = 503
    posted = request.method == "POST"
    if posted and request.path == reverse("intake:write"):
        choices = library.concern_choices(get_language(), fallback=True)
        form = ConcernForm(request.POST, choices=choices)
        # What was typed comes back as it was, not checked: without the database the
        # needs may be unknown here, and "not a valid choice" would be untrue.
        form._errors = ErrorDict()
        response = concern_page(request, form, status=status, **context)
    elif posted and request.path == reverse("intake:follow_up"):
        context["form"] = ReceiptForm(request.POST)
        response = render(request, "intake/follow_up.html", context, status=status)
    elif posted and request.path == reverse("intake:inbox"):
        context["form"] = ReplyForm(request.POST)
        response = render(request, "intake/unavailable.html", context, status=status)
    else:
        response = render(request, "intake/unavailable.html", context, status=status)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response
