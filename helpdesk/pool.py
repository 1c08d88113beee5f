"""The pool's upkeep: cases nobody could take wait in the pool (Case.objects.pool());
these jobs keep it moving.

- `drain_pool` offers waiting cases again whenever capacity may have appeared: call
  `request_drain` after anything that frees a slot or adds a volunteer, language or
  need (closing, handing back, unpausing, training...).
- `sweep` routes every case whose routing task never ran (Redis was down), queues again
  notices that were lost, then drains: nothing is lost to a broker outage.
- `reclaim_unopened` takes back assignments nobody opened within ASSIGNMENT_OPEN_HOURS
  and routes the case to someone else.
Each is one function called by a beat task and by a management command.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk import notifications, queue
from helpdesk.dispatch import route_case, route_cases
from helpdesk.models import Assignment, Case, VolunteerProfile

logger = logging.getLogger(__name__)

# Assignment.end_reason of an assignment taken back because it was never opened.
NOT_OPENED = "not opened"

# Cases routed in one transaction by the sweep and the drain: enough to make a large
# pool quick, few enough that a volunteer's claim waits for the locks only briefly.
BATCH = 200


def batched(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    ids = iter(ids)
    while batch := list(islice(ids, size)):
        yield batch


def sweep() -> int:
    """Route every case whose routing never ran, queue again the assignment and pool
    notices that were never sent, then drain the pool in case a drain request was lost.
    Returns how many cases were routed or placed in the pool, plus how many left it."""
    routed = 0
    awaiting = Case.objects.awaiting_routing().order_by("-urgent", "created_at", "pk")
    for batch in batched(awaiting.values_list("pk", flat=True), BATCH):
        routed += len(route_cases(batch))
    # Notices whose task was lost with the broker, or failed.
    for batch in batched(notifications.unnotified_assignments(), BATCH):
        queue.enqueue("notify_assignment", *batch)
    for case_id in notifications.untold_pool_cases():
        queue.enqueue("notify_pool", case_id)
    return routed + drain_pool()


def anyone_has_room() -> bool:
    """Whether any available volunteer is below capacity: draining a full desk stops
    after this one query instead of trying every waiting case."""
    return VolunteerProfile.objects.available().with_room().exists()


def drain_pool() -> int:
    """Offer the cases waiting in the pool again, urgent first, then oldest, as long as
    someone has room. Returns how many found a volunteer."""
    waiting = list(
        Case.objects.pool().order_by("-urgent", "created_at", "pk").values_list("pk", flat=True)
    )
    assigned = 0
    for batch in batched(waiting, BATCH):
        if not anyone_has_room():
            break
        outcome = route_cases(batch)
        # A case someone claimed meanwhile is not this drain's doing.
        assigned += sum(1 for volunteer_id in outcome.values() if volunteer_id is not None)
    return assigned


def request_drain() -> None:
    """Drain the pool once the current transaction commits. A broker outage only delays
    the drain until the next sweep."""
    queue.after_commit("drain_pool")


def reclaim_unopened(*, now: datetime | None = None) -> int:
    """Take back every assignment not opened within ASSIGNMENT_OPEN_HOURS and route the
    case again, to someone else. Returns how many."""
    now = now or timezone.now()
    opened_by = now - timedelta(hours=settings.ASSIGNMENT_OPEN_HOURS)
    stale = list(
        Assignment.objects.filter(
            ended_at__isnull=True,
            opened_at__isnull=True,
            assigned_at__lte=opened_by,
            case__content_destroyed_at__isnull=True,
        )
        .exclude(case__status=Case.Status.CLOSED)
        .order_by("-case__urgent", "assigned_at")
        .values_list("case_id", flat=True)
    )
    reclaimed = 0
    for case_id in stale:
        if take_back_unopened(case_id, opened_by=opened_by, now=now):
            reclaimed += 1
            route_case(case_id)
    if reclaimed:
        # The volunteers who let cases go now have room for other waiting cases.
        request_drain()
    return reclaimed


def take_back_unopened(case_id: int, *, opened_by: datetime, now: datetime) -> bool:
    with transaction.atomic():
        # The case lock makes routing and claims of this case wait; the assignment is
        # re-read under it, so a case opened a moment ago stays with its volunteer.
        case = Case.objects.select_for_update().only("volunteer", "needs_routing").get(pk=case_id)
        assignment = (
            Assignment.objects.select_for_update()
            .filter(case_id=case_id, ended_at__isnull=True, opened_at__isnull=True)
            .filter(assigned_at__lte=opened_by)
            .first()
        )
        if assignment is None or assignment.volunteer_id != case.volunteer_id:
            return False
        assignment.ended_at = now
        assignment.end_reason = NOT_OPENED
        assignment.save(update_fields=["ended_at", "end_reason"])
        # needs_routing: if routing does not follow (the process dies), the sweep does it.
        case.volunteer = None
        case.needs_routing = True
        case.save(update_fields=["volunteer", "needs_routing"])
    logger.info("Case %s taken back from volunteer %s, unopened", case_id, assignment.volunteer_id)
    return True
