"""Coordinators invite staff: a single-use link that expires, then a password and TOTP."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from helpdesk.models import Invitation, User
from helpdesk.roles import Role


class InvitationUnusable(Exception):
    """The link is unknown, already used or expired (the visitor is not told which)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return settings.SITE_URL + reverse("accept_invitation", args=[token])


def invite_staff(*, email: str, role: Role, invited_by: User | None) -> Invitation:
    """Create an invitation and email its link. Raises if the email cannot be sent, in
    which case nothing is saved (the coordinator sees the error and can try again)."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email.lower(), role=role, token_hash=hash_token(token), invited_by=invited_by
        )
        context = {
            "url": invitation_url(token),
            "site_name": settings.SITE_NAME,
            "hours": settings.INVITATION_MAX_AGE_HOURS,
            "role": invitation.get_role_display(),
        }
        with translation.override(settings.LANGUAGE_CODE):
            subject = render_to_string("emails/invitation_subject.txt", context).strip()
            body = render_to_string("emails/invitation_body.txt", context)
        send_mail(subject, body, None, [invitation.email])
    return invitation


def find_invitation(token: str) -> Invitation:
    invitation = Invitation.objects.usable().filter(token_hash=hash_token(token)).first()
    if invitation is None or User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationUnusable
    return invitation


def accept_invitation(*, token: str, password: str, first_name: str = "") -> User:
    """Create the staff account; the invitation cannot be used again, also when two
    requests race (the row is locked and re-checked)."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().filter(token_hash=hash_token(token)).first()
        )
        if invitation is None or not invitation.is_usable:
            raise InvitationUnusable
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise InvitationUnusable
        user = User.objects.create_user(
            invitation.email, password, role=invitation.role, first_name=first_name
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return user


def purge_expired_invitations() -> int:
    """Delete invitations that expired unused; run hourly by beat and by a command."""
    deleted, _ = Invitation.objects.expired().delete()
    return deleted
