"""Second factor: enforced for every staff session, kept by its owner, secrets encrypted
at rest.

allauth offers TOTP and recovery codes but lets a signed-in user go anywhere without
them. `RequireMFAMiddleware` closes that: a signed-in user whose session has not passed
a second factor reaches only enrolment, re-authentication and logout.

Enrolment is trusted only where the person proved their mailbox: a session signed in by
an invitation or by a coordinator's set-up link (helpdesk/invitations.py) may enrol.
A password alone never does: an account without a factor would otherwise belong to the
first person who knows its password and enrols an authenticator of their own.

The last factor cannot be removed (MFAAdapter.can_delete_authenticator). Moving to a new
phone replaces the authenticator in one step (`replace_totp`), after the person has
confirmed with their current factor: for an enrolled account, allauth's "confirm it is
you" asks for a code, never the password (helpdesk/accounts.py).

A TOTP code counts once: allauth remembers a used code for one 30-second period, while
with a tolerance of one step a code stays valid for up to 90 seconds. Haven remembers
the last time step accepted for each authenticator, in its row, and refuses any code of
that step or an earlier one (RFC 6238, section 5.2).
"""

from __future__ import annotations

import base64
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
    TOTP,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt as decrypt_secret
from django.conf import settings
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

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


# The session key of a session allowed to enrol: the id of the account it signed in.
MAY_ENROL_KEY = "haven_may_enrol"
# Kinds of authenticator that prove a sign-in by themselves (recovery codes back one up).
FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _(
            "Your authenticator is your only second factor, so it cannot be removed. "
            "To move to a new phone, choose “Move to a new phone” instead."
        ),
        "code_already_used": _(
            "This code has been used already. Please wait for the next code in your app."
        ),
    }

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        if authenticator.type not in FACTORS:
            return True
        others = Authenticator.objects.filter(user_id=authenticator.user_id, type__in=FACTORS)
        return others.exclude(pk=authenticator.pk).exists()

    def encrypt(self, text: str) -> str:
        return encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt(encrypted_text)

    def get_totp_issuer(self) -> str:
        return settings.SITE_NAME


def passed_mfa(request: HttpRequest) -> bool:
    methods = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY, [])
    return any(entry.get("method") == "mfa" for entry in methods)


def has_factor(user) -> bool:
    return Authenticator.objects.filter(user=user, type__in=FACTORS).exists()


def qr_code(user, secret: str) -> str:
    """The authenticator's secret as a QR code, a data: URI (the page loads nothing)."""
    adapter = MFAAdapter()
    svg = adapter.build_totp_svg(adapter.build_totp_url(user, secret))
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def allow_enrolment(request: HttpRequest) -> None:
    """This session was signed in by an invitation or a set-up link: it may enrol."""
    request.session[MAY_ENROL_KEY] = request.user.pk


def may_enrol(request: HttpRequest) -> bool:
    return request.session.get(MAY_ENROL_KEY) == request.user.pk


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


def replace_totp(*, user, secret: str) -> Authenticator:
    """Put a new authenticator (its code already checked) in place of the old one, in
    one transaction: the account is never without a factor. Recovery codes stay."""
    with transaction.atomic():
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
        authenticator = TOTP.activate(user, secret).instance
        remember_enrolment_step(authenticator)
    return authenticator


def remember_enrolment_step(authenticator: Authenticator) -> None:
    """The code typed to enrol was of this step (or near it): it cannot sign in later."""
    _remember_step(authenticator, current_step())


def record_enrolment(sender, request: HttpRequest, user, authenticator, **kwargs) -> None:
    """Entering a valid code to enrol proves the factor, just as a login does, and as
    a fresh "confirm it is you" does: the recovery codes shown next need no other code
    (the one just typed could not be typed again)."""
    if authenticator.type == Authenticator.Type.TOTP:
        remember_enrolment_step(authenticator)
        if request is not None:
            record_authentication(
                request, user, method="mfa", type=authenticator.type, reauthenticated=True
            )
            request.session.pop(MAY_ENROL_KEY, None)


class RequireMFAMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated or passed_mfa(request):
            return None
        url_name = request.resolver_match.url_name if request.resolver_match else None
        if has_factor(request.user):
            if url_name in ALLOWED_BEFORE_MFA:
                return None
            # Enrolled, yet this session never passed the factor: it did not come
            # through the login flow. Start again there.
            logout(request)
            return redirect(settings.LOGIN_URL)
        if may_enrol(request):
            if url_name in ALLOWED_BEFORE_MFA:
                return None
            return redirect("mfa_activate_totp")
        # No factor, and signed in by a password alone: nothing, not even enrolment.
        logout(request)
        return render(request, "helpdesk/second_factor_needs_link.html", status=403)
