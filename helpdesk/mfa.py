"""Second factor: enforced for every staff session, secrets encrypted at rest.

allauth offers TOTP and recovery codes but lets a signed-in user go anywhere without
them. `RequireMFAMiddleware` closes that: a signed-in user whose session has not passed
a second factor reaches only enrolment, re-authentication and logout.
"""

from __future__ import annotations

from allauth.account.internal.flows.login import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    record_authentication,
)
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import logout
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


def record_enrolment(sender, request: HttpRequest, user, authenticator, **kwargs) -> None:
    """Entering a valid code to enrol proves the factor, just as a login does."""
    if authenticator.type == Authenticator.Type.TOTP and request is not None:
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
