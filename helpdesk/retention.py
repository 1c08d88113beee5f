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
from keystore.models import DataKey

# Data keys are stored ahead of the cases that take them (helpdesk/encryption.py), and
# handed out only within KEY_RESERVE_SECONDS (10 minutes) of being stored. One no case
# has taken an hour after it was stored never will be (a process stopped with keys in
# reserve, a quiet process's reserve grown old): it seals nothing and is deleted. Only
# keys stored within the last UNUSED_KEYS_LOOKBACK are looked at (by the index on
# created_at), so the hourly sweep reads two days' keys, not every key; a key of a case
# is never deleted, however old.
UNUSED_KEY_AGE = timedelta(hours=1)
UNUSED_KEYS_LOOKBACK = timedelta(days=2)
UNUSED_KEYS_BATCH = 500


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


def sweep_unused_keys(*, now: datetime | None = None) -> int:
    """Delete the data keys stored between UNUSED_KEYS_LOOKBACK and UNUSED_KEY_AGE ago
    that no case has; a beat task calls it hourly. Returns how many were deleted."""
    now = now or timezone.now()
    stored = DataKey.objects.filter(
        created_at__gte=now - UNUSED_KEYS_LOOKBACK, created_at__lt=now - UNUSED_KEY_AGE
    ).values_list("pk", flat=True)
    stored = list(stored)
    unused = []
    for start in range(0, len(stored), UNUSED_KEYS_BATCH):
        batch = stored[start : start + UNUSED_KEYS_BATCH]
        taken = set(Case.objects.filter(key_id__in=batch).values_list("key_id", flat=True))
        unused.extend(key_id for key_id in batch if key_id not in taken)
    for start in range(0, len(unused), UNUSED_KEYS_BATCH):
        DataKey.objects.filter(pk__in=unused[start : start + UNUSED_KEYS_BATCH]).delete()
    return len(unused)
