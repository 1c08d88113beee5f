"""Coordinators manage the team; volunteers pause themselves. Taking someone out of
routing never orphans their cases silently: the caller chooses to keep them with the
person or to return them to the pool, and freed capacity drains the pool."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from helpdesk import pool
from helpdesk.models import Assignment, Case, User, VolunteerProfile
from resources.models import LEGAL_REVIEW_PERMISSION


def return_cases_to_pool(*, user: User, reason: str) -> int:
    """Hand every open case of `user` back to the pool; returns how many."""
    now = timezone.now()
    with transaction.atomic():
        case_ids = list(Case.objects.held_by(user).values_list("pk", flat=True))
        Assignment.objects.filter(case_id__in=case_ids, ended_at__isnull=True).update(
            ended_at=now, end_reason=reason
        )
        Case.objects.filter(pk__in=case_ids).update(volunteer=None)
    if case_ids:
        pool.request_drain()
    return len(case_ids)


def update_volunteer(
    *,
    profile: VolunteerProfile,
    languages,
    needs,
    capacity: int,
    paused_until: date | None,
    active: bool,
    role: str,
    return_cases: bool,
) -> int:
    """Save a coordinator's changes to a volunteer; returns cases sent back to the pool."""
    user = profile.user
    with transaction.atomic():
        profile.capacity = capacity
        profile.paused_until = paused_until
        profile.save(update_fields=["capacity", "paused_until"])
        profile.languages.set(languages)
        profile.needs.set(needs)
        user.is_active = active
        user.role = role
        user.save(update_fields=["is_active", "role"])
    returned = 0
    unavailable = not active or profile.is_paused()
    if unavailable and return_cases:
        returned = return_cases_to_pool(user=user, reason="volunteer unavailable")
    # More languages, needs or capacity, or back from a pause: cases may now fit.
    pool.request_drain()
    return returned


def pause(*, user: User, until: date | None, return_cases: bool) -> int:
    """A volunteer pauses themselves (until=None resumes)."""
    profile = user.profile
    profile.paused_until = until
    profile.save(update_fields=["paused_until"])
    returned = 0
    if until is not None and return_cases:
        returned = return_cases_to_pool(user=user, reason="volunteer paused")
    if until is None:
        pool.request_drain()
    return returned


def legal_review_permission() -> Permission:
    app_label, codename = LEGAL_REVIEW_PERMISSION.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def set_legal_reviewer(*, user: User, allowed: bool) -> None:
    """Give or take the right to record legal reviews of guidance. It is held person by
    person, never by role: a coordinator is not a lawyer by being a coordinator."""
    if allowed:
        user.user_permissions.add(legal_review_permission())
    else:
        user.user_permissions.remove(legal_review_permission())
