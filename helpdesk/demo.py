"""Demo staff for the embedded default: a coordinator and volunteers with different
languages and needs, each with TOTP enrolled so that `make totp` can sign them in."""

from __future__ import annotations

import time
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from helpdesk.models import User, VolunteerProfile
from helpdesk.roles import Role
from resources.models import Language, Need

DEMO_PASSWORD = "demo-password-only-for-local-use"  # noqa: S105 - refused outside DEBUG


@dataclass(frozen=True)
class DemoStaff:
    email: str
    first_name: str
    role: Role
    languages: tuple[str, ...]
    needs: tuple[str, ...]
    capacity: int = 5


DEMO_STAFF = (
    DemoStaff(
        "coordinator@haven.test",
        "Noor",
        Role.COORDINATOR,
        ("en", "nl", "ar"),
        ("stay-safe", "leave", "asylum-be", "unsure"),
    ),
    DemoStaff(
        "amira@haven.test", "Amira", Role.VOLUNTEER, ("ar", "fr", "en"), ("leave", "asylum-be")
    ),
    DemoStaff("dmitri@haven.test", "Dmitri", Role.VOLUNTEER, ("ru", "en"), ("stay-safe",), 3),
    DemoStaff("lotte@haven.test", "Lotte", Role.VOLUNTEER, ("nl", "en", "fr"), ("asylum-be",)),
    DemoStaff(
        "yasmin@haven.test", "Yasmin", Role.VOLUNTEER, ("fa", "tr", "en"), ("stay-safe", "leave")
    ),
)


@transaction.atomic
def load_demo_staff() -> list[User]:
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo accounts exist only in the embedded default.")
    users = []
    for staff in DEMO_STAFF:
        user = User.objects.filter(email=staff.email).first()
        if user is None:
            user = User.objects.create_user(
                staff.email, DEMO_PASSWORD, role=staff.role, first_name=staff.first_name
            )
        EmailAddress.objects.get_or_create(
            user=user, email=staff.email, defaults={"primary": True, "verified": True}
        )
        profile, _ = VolunteerProfile.objects.get_or_create(
            user=user, defaults={"capacity": staff.capacity}
        )
        profile.languages.set(Language.objects.filter(code__in=staff.languages))
        profile.needs.set(Need.objects.filter(slug__in=staff.needs))
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, generate_totp_secret())
        users.append(user)
    return users


def current_totp_code(user: User) -> str:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))
