"""Response headers that keep staff pages and ended sessions off the device.

- Every staff response (any page under the staff prefixes, and any response to a
  signed-in staff member) may not be stored: a case shown again after a refused form,
  a list, a report or a CSV would otherwise sit in the browser's cache or a proxy's.
- When a session ends (a staff member signs out or is signed out, a submitter closes
  their inbox) the browser is asked to clear the site's cache, cookies and storage.
- A Permissions-Policy denies every powerful browser feature (settings.PERMISSIONS_POLICY
  says which, and the one exception).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

STAFF_PREFIXES = ("/desk/", "/admin/", "/accounts/")
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'
SESSION_ENDED = "_haven_session_ended"


def mark_session_ended(request: HttpRequest) -> None:
    """Ask for the browser to clear the site's data with this response."""
    setattr(request, SESSION_ENDED, True)


def _signed_in(request: HttpRequest) -> bool:
    # Without a session cookie nobody is signed in, and the session is not even read.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return request.user.is_authenticated


class PrivacyHeadersMiddleware:
    """Placed after AuthenticationMiddleware (and after the outage middleware, which
    loads the user first and answers calmly when the database is away), so that it sees
    who was signed in before the view ran and who is after it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        was_signed_in = _signed_in(request)
        response = self.get_response(request)
        if was_signed_in and not request.user.is_authenticated:
            mark_session_ended(request)
        if getattr(request, SESSION_ENDED, False):
            response["Clear-Site-Data"] = CLEAR_SITE_DATA
        if was_signed_in or request.path_info.startswith(STAFF_PREFIXES):
            add_never_cache_headers(response)
        response.setdefault("Permissions-Policy", permissions_policy())
        return response


def permissions_policy() -> str:
    return ", ".join(f"{feature}={allow}" for feature, allow in settings.PERMISSIONS_POLICY.items())
