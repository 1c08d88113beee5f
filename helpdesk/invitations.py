"""Single-use links a coordinator sends, which expire and of which only a hash is kept:

- an invitation: a new staff member chooses a password, then enrols a second factor;
- a set-up link after a coordinator reset someone's second factor: every session of
  theirs has ended and their password no longer works; they choose a password and enrol
  again.

Either link signs the person in allowed to enrol (helpdesk/mfa.py); nothing else does.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from helpdesk.models import FactorReset, Invitation, SingleUseLink, User
from helpdesk.roles import Role


class LinkUnusable(Exception):
    """The link is unknown, already used or expired (the visitor is not told which)."""


hash_token = SingleUseLink.hash_token


def link_url(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, args=[token])


def send_link(*, to: str, template: str, url: str, language: str = "", **context) -> None:
    """Mail a link in Haven's neutral voice, in `language` (the desk's by default);
    raises if it cannot be sent. Partners' links are mailed alike (helpdesk/partners.py)."""
    context = {
        "url": url,
        "site_name": settings.SITE_NAME,
        "hours": settings.INVITATION_MAX_AGE_HOURS,
        **context,
    }
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        body = render_to_string(f"emails/{template}_body.txt", context)
    send_mail(subject, body, None, [to])


def invite_staff(
    *,
    email: str,
    role: Role,
    invited_by: User | None,
    language: str = settings.LANGUAGE_CODE,
    languages=(),
    needs=(),
    capacity: int = 5,
) -> Invitation:
    """Create an invitation and email its link, in the invited person's language. The
    account starts with the languages, needs and capacity given here, so routing can
    reach them as soon as they are in. Raises if the email cannot be sent, in which case
    nothing is saved (the coordinator sees the error and can try again)."""
    token, digest = Invitation.new_token()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email.lower(),
            role=role,
            token_hash=digest,
            invited_by=invited_by,
            language=language,
            capacity=capacity,
        )
        invitation.languages.set(languages)
        invitation.needs.set(needs)
        with translation.override(language):
            role_name = str(invitation.get_role_display())
        send_link(
            to=invitation.email,
            template="invitation",
            url=link_url("accept_invitation", token),
            language=language,
            role=role_name,
        )
    return invitation


def find_invitation(token: str) -> Invitation:
    invitation = Invitation.objects.usable().filter(token_hash=hash_token(token)).first()
    if invitation is None or User.objects.filter(email__iexact=invitation.email).exists():
        raise LinkUnusable
    return invitation


def accept_invitation(*, token: str, password: str, first_name: str = "") -> User:
    """Create the staff account; the invitation cannot be used again, also when two
    requests race (the row is locked and re-checked)."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().filter(token_hash=hash_token(token)).first()
        )
        if invitation is None or not invitation.is_usable:
            raise LinkUnusable
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise LinkUnusable
        user = User.objects.create_user(
            invitation.email,
            password,
            role=invitation.role,
            first_name=first_name,
            language=invitation.language,
        )
        profile = user.profile
        profile.capacity = invitation.capacity
        profile.save(update_fields=["capacity"])
        profile.languages.set(invitation.languages.all())
        profile.needs.set(invitation.needs.all())
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return user


def reset_second_factor(*, user: User, by: User) -> FactorReset:
    """Remove every second factor of `user`, end their sessions (their password stops
    working, and with it every session: Django ties sessions to the password's hash)
    and mail them a fresh set-up link; an earlier unused link stops working. Raises if
    the mail cannot be sent, in which case nothing changes."""
    token, digest = FactorReset.new_token()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        Authenticator.objects.filter(user=user).delete()
        user.set_unusable_password()
        user.save(update_fields=["password"])
        FactorReset.objects.filter(user=user, used_at__isnull=True).delete()
        reset = FactorReset.objects.create(user=user, token_hash=digest, requested_by=by)
        send_link(
            to=user.email,
            template="factor_reset",
            url=link_url("factor_reset", token),
            language=user.language,
        )
    return reset


def find_factor_reset(token: str) -> FactorReset:
    reset = (
        FactorReset.objects.usable()
        .select_related("user")
        .filter(token_hash=hash_token(token), user__is_active=True)
        .first()
    )
    if reset is None:
        raise LinkUnusable
    return reset


def use_factor_reset(*, token: str, password: str) -> User:
    """Set the new password; the link cannot be used again, also when two requests race."""
    with transaction.atomic():
        reset = FactorReset.objects.select_for_update().filter(token_hash=hash_token(token)).first()
        if reset is None or not reset.is_usable or not reset.user.is_active:
            raise LinkUnusable
        user = reset.user
        user.set_password(password)
        user.save(update_fields=["password"])
        reset.used_at = timezone.now()
        reset.save(update_fields=["used_at"])
    return user


def purge_expired_invitations() -> int:
    """Delete invitations and set-up links that expired unused; run hourly by beat and
    by a command."""
    invitations, _ = Invitation.objects.expired().delete()
    resets, _ = FactorReset.objects.expired().delete()
    return invitations + resets
