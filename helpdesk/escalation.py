"""Escalation: a case whose first answer is overdue is flagged (`Case.escalated_at`)
and every coordinator is told, once. Urgent cases are overdue after
FIRST_RESPONSE_HOURS_URGENT, the others after FIRST_RESPONSE_HOURS (see
`CaseQuerySet.overdue`, which the coordinators' "overdue" filter uses too)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from helpdesk import queue
from helpdesk.models import Case, RollupChange


def escalate_overdue(*, now: datetime | None = None) -> int:
    """Flag every overdue case not yet flagged and queue the coordinators' notice; a beat
    task and the `escalate_overdue` command call it. Returns how many were flagged."""
    now = now or timezone.now()
    due = list(
        Case.objects.overdue(now)
        .filter(escalated_at__isnull=True)
        .order_by("-urgent", "created_at")
        .values_list("pk", flat=True)
    )
    escalated = 0
    for case_id in due:
        with transaction.atomic():
            # Only one of two overlapping runs (beat and the command) wins this update,
            # so the coordinators hear about a case once.
            if Case.objects.filter(pk=case_id, escalated_at__isnull=True).update(escalated_at=now):
                RollupChange.objects.mark(now)  # counted on the day it happens
                queue.after_commit("notify_escalation", case_id)
                escalated += 1
    return escalated
