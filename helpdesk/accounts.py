"""How Haven customises django-allauth's accounts: no public sign-up, no addresses."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from helpdesk.addresses import address_fingerprint


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Coordinators invite staff (helpdesk/invitations.py); nobody signs up.
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth keys its per-address rate limits on this value; it gets a keyed,
        # short-lived hash so that no address reaches the cache in clear.
        return address_fingerprint(request, purpose="login")

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
