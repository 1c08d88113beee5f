from functools import partial

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language_bidi

from helpdesk.mfa import passed_mfa


def site(request: HttpRequest) -> dict:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "QUICK_EXIT_URL": settings.QUICK_EXIT_URL,
        "TEXT_DIRECTION": "rtl" if get_language_bidi() else "ltr",
        # Whether this staff session passed its second factor: the desk's links are shown
        # only then (before, each would lead back to the enrolment page). Read on use.
        "PASSED_SECOND_FACTOR": partial(passed_mfa, request),
    }
