"""Second factor: enforced for every staff session, secrets encrypted at rest.

allauth offers TOTP and recovery codes but lets a signed-in user go anywhere without
them. `RequireMFAMiddleware` closes that: a signed-in user whose session has not passed
a second factor reaches only enrolment, re-authentication and logout.

A TOTP code counts once: allauth remembers a used code for one 30-second period, while
with a tolerance of one step a code stays valid for up to 90 seconds. Haven remembers
the last time step accepted for each authenticator, in its row, and refuses any code of
that step or an earlier one (RFC 6238, section 5.2).
"""

from __future__ import annotations

import hmac
import time

from allauth.account.internal.flows.login import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    record_authentication,
)
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt as decrypt_secret
from django.conf import settings
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from helpdesk.encryption import decrypt, encrypt

# URL names a signed-in user may reach before their session has passed a second factor.
ALLOWED_BEFORE_MFA = frozenset(
    {
        "mfa_activate_totp",
        "mfa_view_recovery_codes",
        "mfa_download_recovery_codes",
        "account_reauthenticate",
        "account_logout",
        "set_language",
    }
)


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt(encrypted_text)

    def get_totp_issuer(self) -> str:
        return settings.SITE_NAME


def passed_mfa(request: HttpRequest) -> bool:
    methods = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY, [])
    return any(entry.get("method") == "mfa" for entry in methods)


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


LAST_STEP_KEY = "haven_last_step"


def current_step() -> int:
    return int(time.time()) // mfa_settings.TOTP_PERIOD


def totp_step(authenticator: Authenticator, code: str) -> int | None:
    """The time step, within the tolerance, whose code `code` is; None if none."""
    secret = decrypt_secret(authenticator.data["secret"])
    code = "".join(code.split())
    for step in yield_hotp_counters_from_time():
        if hmac.compare_digest(format_hotp_value(hotp_value(secret, step)), code):
            return step
    return None


def _remember_step(authenticator: Authenticator, step: int) -> bool:
    """Record `step` as used; False if it, or a later step, was used already."""
    with transaction.atomic():
        row = Authenticator.objects.select_for_update().get(pk=authenticator.pk)
        if step <= row.data.get(LAST_STEP_KEY, -1):
            return False
        row.data = {**row.data, LAST_STEP_KEY: step}
        row.save(update_fields=["data"])
    authenticator.data = row.data
    return True


def claim_totp_code(authenticator: Authenticator, code: str) -> bool:
    """Accept a valid TOTP code once: its step must be later than the last one used."""
    step = totp_step(authenticator, code)
    return step is not None and _remember_step(authenticator, step)


def remember_enrolment_step(authenticator: Authenticator) -> None:
    """The code typed to enrol was of this step (or near it): it cannot sign in later."""
    _remember_step(authenticator, current_step())


def record_enrolment(sender, request: HttpRequest, user, authenticator, **kwargs) -> None:
    """Entering a valid code to enrol proves the factor, just as a login does."""
    if authenticator.type == Authenticator.Type.TOTP:
        remember_enrolment_step(authenticator)
        if request is not None:
            record_authentication(request, user, method="mfa", type=authenticator.type)


class RequireMFAMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated or passed_mfa(request):
            return None
        if request.resolver_match and request.resolver_match.url_name in ALLOWED_BEFORE_MFA:
            return None
        if has_totp(request.user):
            # Enrolled, yet this session never passed the factor: it did not come
            # through the login flow. Start again there.
            logout(request)
            return redirect(settings.LOGIN_URL)
        return redirect("mfa_activate_totp")
