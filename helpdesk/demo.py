"""Demo staff for the embedded default: a coordinator and volunteers with different
languages and needs, each with TOTP enrolled so that `make totp` can sign them in."""

from __future__ import annotations

import secrets
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

from helpdesk.cases import submit_concern
from helpdesk.models import Case, User
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
            user.profile.capacity = staff.capacity
            user.profile.save(update_fields=["capacity"])
        EmailAddress.objects.get_or_create(
            user=user, email=staff.email, defaults={"primary": True, "verified": True}
        )
        profile = user.profile
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


DEMO_CASES = (
    # need, country, languages, urgent, what the person wrote
    (
        "asylum-be",
        "UG",
        ["en"],
        False,
        "I arrived in Belgium last month. Can I ask for protection because I am gay?",
    ),
    (
        "leave",
        "SY",
        ["ar", "en"],
        True,
        "They found my messages. I have to leave the city this week.",
    ),
    ("stay-safe", "RU", ["ru"], False, "Our group was raided. How can we keep organising safely?"),
    (
        "unsure",
        "IR",
        ["fa", "en"],
        False,
        "My friend is in danger and I do not know where to start.",
    ),
)


def load_demo_cases() -> int:
    """A few made-up cases through the same function the intake form uses, so that the
    desk is not empty. Nothing happens if cases exist already."""
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo cases exist only in the embedded default.")
    if Case.objects.exists():
        return 0
    for need, country, languages, urgent, text in DEMO_CASES:
        submit_concern(
            # Nobody will come back for a demo case: a random value stands in for the
            # hash of a receipt that was never shown.
            receipt_hash=secrets.token_hex(32),
            submission_key=secrets.token_hex(16),
            for_whom="self",
            need=Need.objects.get(slug=need),
            country=country,
            languages=languages,
            language=languages[0],
            urgent=urgent,
            description=f"[demo] {text}",
        )
    return len(DEMO_CASES)
