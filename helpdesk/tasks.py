"""Celery tasks: each takes ids (or nothing), loads what it needs and calls one
domain function, so running it twice does no harm.

Tasks sit above everything they run: the domain never imports this module, it queues a
task by name after commit (helpdesk/queue.py).
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from helpdesk import (
    dispatch,
    escalation,
    invitations,
    notifications,
    partners,
    pool,
    referrals,
    retention,
    rollups,
)

# Every task is fire-and-forget: nothing reads a result, and keeping results would make
# each publish subscribe to Redis for one, which hangs a submission for seconds (the
# result backend's own retries) while Redis is down.
# A task that finds the database restarting or unreachable (or loses a deadlock) runs
# again later, backing off up to a minute, instead of failing: a failed task is
# acknowledged and gone, and a notice it should have sent would never be sent.
TASK_OPTIONS = {
    "ignore_result": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 30,
}


@shared_task(**TASK_OPTIONS)
def purge_expired_invitations() -> int:
    return invitations.purge_expired_invitations()


@shared_task(**TASK_OPTIONS)
def route_case(case_id: int) -> int | None:
    return dispatch.route_case(case_id)


@shared_task(**TASK_OPTIONS)
def sweep_routing() -> int:
    return pool.sweep()


@shared_task(**TASK_OPTIONS)
def drain_pool() -> int:
    return pool.drain_pool()


@shared_task(**TASK_OPTIONS)
def reclaim_unopened() -> int:
    return pool.reclaim_unopened()


@shared_task(**TASK_OPTIONS)
def escalate_overdue() -> int:
    return escalation.escalate_overdue()


@shared_task(**TASK_OPTIONS)
def announce_overdue_guidance() -> int:
    return notifications.announce_overdue_guidance()


@shared_task(**TASK_OPTIONS)
def purge_expired_cases() -> int:
    return retention.purge_expired_cases()


@shared_task(**TASK_OPTIONS)
def sweep_unused_keys() -> int:
    return retention.sweep_unused_keys()


@shared_task(**TASK_OPTIONS)
def notify_assignment(*assignment_ids: int) -> int:
    """Routing a batch queues one task for all its assignments. Each notice is sent on
    its own, so one that fails does not hold back the others; the failure is raised at
    the end, and a retry sends only what was not sent."""
    sent, failed = 0, None
    for assignment_id in assignment_ids:
        try:
            sent += notifications.notify_assignment(assignment_id)
        except Exception as error:  # a mail server refusing one address
            failed = failed or error
    if failed:
        raise failed
    return sent


@shared_task(**TASK_OPTIONS)
def notify_submitter_message(message_id: int) -> bool:
    return notifications.notify_submitter_message(message_id)


@shared_task(**TASK_OPTIONS)
def notify_escalation(case_id: int) -> int:
    return notifications.notify_escalation(case_id)


@shared_task(**TASK_OPTIONS)
def notify_pool(case_id: int) -> int:
    return notifications.notify_pool(case_id)


@shared_task(**TASK_OPTIONS)
def notify_referral_follow_up(referral_id: int) -> int:
    return notifications.notify_referral_follow_up(referral_id)


@shared_task(**TASK_OPTIONS)
def remind_referral_follow_ups() -> int:
    return referrals.remind_overdue_follow_ups()


@shared_task(**TASK_OPTIONS)
def notify_partner_answer(event_id: int) -> int:
    return notifications.notify_partner_answer(event_id)


@shared_task(**TASK_OPTIONS)
def notify_referral_stalled(referral_id: int) -> int:
    return notifications.notify_referral_stalled(referral_id)


@shared_task(**TASK_OPTIONS)
def remind_partner(referral_id: int) -> bool:
    return partners.remind_partner(referral_id)


@shared_task(**TASK_OPTIONS)
def chase_partners() -> list[int]:
    return list(partners.chase_partners())


@shared_task(**TASK_OPTIONS)
def refresh_rollups() -> int:
    """Recompute the reports' rollups of the days marked as changed."""
    return rollups.refresh_changed()
