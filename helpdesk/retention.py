"""Retention: what a person wrote is kept only as long as it can help them. The content
of a case closed CASE_RETENTION_DAYS ago, or of an open case whose submitter has not
come back for SUBMITTER_ABSENCE_DAYS, is destroyed; the anonymous statistics (need,
country, languages, dates, status, reason for closing) stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from helpdesk.models import Case, CaseQuerySet


def expired_cases(*, now: datetime | None = None) -> CaseQuerySet:
    now = now or timezone.now()
    closed_before = now - timedelta(days=settings.CASE_RETENTION_DAYS)
    absent_since = now - timedelta(days=settings.SUBMITTER_ABSENCE_DAYS)
    # A closed case without a closing date (none should exist) falls back to its
    # submission date rather than being kept for ever.
    closed_long_ago = Q(status=Case.Status.CLOSED) & (
        Q(closed_at__lt=closed_before) | Q(closed_at__isnull=True, created_at__lt=closed_before)
    )
    abandoned = ~Q(status=Case.Status.CLOSED) & Q(submitter_seen_at__lt=absent_since)
    return Case.objects.with_content().filter(closed_long_ago | abandoned)


def purge_expired_cases(*, now: datetime | None = None) -> int:
    """Destroy the content of every expired case; a beat task and the `purge_cases`
    command call it. Returns how many cases were purged."""
    purged = 0
    for case in expired_cases(now=now).only("pk").order_by("pk"):
        case.destroy_content(by_submitter=False)
        purged += 1
    return purged
