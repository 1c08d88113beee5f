"""How Haven customises django-allauth's accounts: no public sign-up, no addresses, and
mail in Haven's own neutral words.

allauth names the site after the request's Host header and builds its links from it:
a mail could then carry any host a visitor chose to send. Haven's mail names the site
`SITE_NAME` and links to `SITE_URL`, whatever the request said.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from helpdesk.addresses import address_fingerprint


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Coordinators invite staff (helpdesk/invitations.py); nobody signs up.
        return False

    def format_email_subject(self, subject: str) -> str:
        # Haven's subjects name the site themselves; allauth would prefix the Host.
        return subject

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        site = {"name": settings.SITE_NAME, "domain": urlsplit(settings.SITE_URL).netloc}
        context = {
            "email": email,
            **context,
            "current_site": site,
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
        }
        self.render_mail(template_prefix, email, context).send()

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return settings.SITE_URL + path.replace("UID-KEY", key)

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth keys its per-address rate limits on this value; it gets a keyed,
        # short-lived hash so that no address reaches the cache in clear.
        return address_fingerprint(request, purpose="login")

    def get_reauthentication_methods(self, user) -> list[dict]:
        # "Confirm it is you" before changing a second factor, or anything else, asks an
        # enrolled account for a code (or a recovery code), never the password: someone
        # who learnt the password must not be able to change the factor with it.
        methods = super().get_reauthentication_methods(user)
        if any(method["id"].startswith("mfa_") for method in methods):
            return [method for method in methods if method["id"] != "reauthenticate"]
        return methods

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # A first enrolment follows the password within minutes, and a session without
        # a second factor can do nothing but enrol (helpdesk/mfa.py): asking for the
        # password again would only add a step. Changing an existing factor still asks.
        user = getattr(self.request, "user", None)
        if app == "allauth.mfa" and user is not None and user.is_authenticated:
            from allauth.mfa.models import Authenticator

            if not Authenticator.objects.filter(user=user).exists():
                return False
        return super().is_reauthentication_required(app=app, **kwargs)


def follow_email_change(user) -> None:
    """A coordinator changed `user`'s address: allauth's records of the old one go, so
    that no reset link can be sent to it any more."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).delete()
