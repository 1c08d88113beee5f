"""Background work, queued: the one path from the desk's domain to Celery.

Domain code names the task it wants (`after_commit("route_case", case.pk)`) instead of
importing helpdesk/tasks.py, which imports the domain: the tasks sit above everything
they run, and nothing below them needs to know them. Tasks take ids, never instances or
content, and are queued after the transaction that caused them commits.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

# Every task the domain may ask for, by its short name (helpdesk.tasks.<name>).
TASKS = frozenset(
    {
        "route_case",
        "drain_pool",
        "notify_assignment",
        "notify_submitter_message",
        "notify_escalation",
        "notify_pool",
        "notify_referral_follow_up",
        "notify_partner_answer",
        "notify_referral_stalled",
        "remind_partner",
    }
)


def task(name: str):
    if name not in TASKS:
        raise ValueError(f"No task {name!r} may be queued from the domain.")
    return current_app.tasks[f"helpdesk.tasks.{name}"]


def enqueue(name: str, *args) -> bool:
    """Queue a task now. A broker that cannot be reached must not turn the request that
    caused the task into an error page: the failure is logged with the task's name and
    ids (never content) and the periodic jobs catch up where they can. In eager mode the
    task runs here, and its own failure (a mail server down) is handled the same way."""
    chosen = task(name)
    try:
        chosen.delay(*args)
    except Exception as error:  # kombu raises several kinds; eager tasks anything
        logger.warning(
            "Could not queue (or, eager, run) %s%s: %s", chosen.name, args, type(error).__name__
        )
        return False
    return True


def after_commit(name: str, *ids: int) -> None:
    """Queue the task once the current transaction commits (at once outside one)."""
    task(name)  # an unknown name fails here, in the caller, not later after commit
    transaction.on_commit(partial(enqueue, name, *ids))
