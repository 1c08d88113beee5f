"""Routing: which volunteer gets a case.

`decide` is a plain function over plain values: eligible volunteers are active, not
paused, trained for the need, speak one of the person's languages and are below
capacity; among them an earlier language preference wins, then the lowest load relative
to capacity, then whoever waited longest since their last assignment. `route_case`
applies a decision under row locks, so capacity holds also when routings race.

A case nobody can take waits in the pool (coordinators are told once) and
`drain_pool` offers it again whenever capacity may have appeared: call `request_drain`
after anything that frees a slot or adds a volunteer, language or need. An assignment
left unopened goes back (`reclaim_unopened`); a case never returns by routing to
someone who held it before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

# Assignment.end_reason of an assignment taken back because it was never opened.
NOT_OPENED = "not opened"


@dataclass(frozen=True)
class CaseFacts:
    need: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    id: int
    languages: frozenset[str]
    needs: frozenset[str]
    capacity: int
    open_cases: int
    active: bool = True
    paused_until: date | None = None
    last_assigned_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    volunteer_id: int
    language: str


def is_paused(paused_until: date | None, today: date) -> bool:
    return paused_until is not None and paused_until >= today


def decide(case: CaseFacts, candidates: Sequence[Candidate], *, today: date) -> Decision | None:
    best: tuple | None = None
    decision = None
    for candidate in candidates:
        if not candidate.active or is_paused(candidate.paused_until, today):
            continue
        if case.need not in candidate.needs or candidate.open_cases >= candidate.capacity:
            continue
        rank = next(
            (i for i, code in enumerate(case.languages) if code in candidate.languages), None
        )
        if rank is None:
            continue
        key = (
            rank,
            candidate.open_cases / candidate.capacity,
            candidate.last_assigned_at.timestamp() if candidate.last_assigned_at else float("-inf"),
            candidate.id,
        )
        if best is None or key < best:
            best, decision = key, Decision(candidate.id, case.languages[rank])
    return decision


def candidates_for(case, *, lock: bool) -> list[Candidate]:
    """Volunteers who could take this case, with their current load. Whoever held the
    case before and no longer does (did not open it, handed it back, was moved off it)
    is left out: a case that comes back goes to someone new, or a coordinator decides."""
    from helpdesk.models import Assignment, Case, VolunteerProfile

    held_before = Assignment.objects.filter(case=case, ended_at__isnull=False).values(
        "volunteer_id"
    )
    profiles = (
        VolunteerProfile.objects.filter(
            user__is_active=True,
            needs__slug=case.need.slug,
            languages__code__in=case.languages,
        )
        .exclude(user_id__in=held_before)
        .distinct()
    )
    if lock:
        # Lock in a stable order so that concurrent routings cannot deadlock; loads are
        # counted after the locks are held, so two routings never both see a free slot.
        ids = list(
            VolunteerProfile.objects.select_for_update()
            .filter(pk__in=profiles.values("pk"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        profiles = VolunteerProfile.objects.filter(pk__in=ids)
    profiles = profiles.annotate(
        open_cases=Count(
            "user__cases",
            filter=~Q(user__cases__status=Case.Status.CLOSED),
            distinct=True,
        ),
        last_assigned=Max("user__assignments__assigned_at"),
    ).prefetch_related("languages", "needs")
    return [
        Candidate(
            id=profile.user_id,
            languages=frozenset(language.code for language in profile.languages.all()),
            needs=frozenset(need.slug for need in profile.needs.all()),
            capacity=profile.capacity,
            open_cases=profile.open_cases,
            active=True,
            paused_until=profile.paused_until,
            last_assigned_at=profile.last_assigned,
        )
        for profile in profiles
    ]


def is_settled(case) -> bool:
    """Assigned, closed or destroyed: nothing for routing to do."""
    from helpdesk.models import Case

    return bool(case.volunteer_id or case.status == Case.Status.CLOSED or case.content_destroyed)


def leave_settled(case) -> int | None:
    if case.needs_routing:
        type(case).objects.filter(pk=case.pk).update(needs_routing=False)
    return case.volunteer_id


def route_case(case_id: int) -> int | None:
    """Route one case; returns the volunteer's id, or None if it waits in the pool.

    Idempotent: a case that is assigned, closed or destroyed is left alone. Locks are
    taken volunteers first, then the case, the same order as a volunteer's claim, so a
    routing and a claim of one case cannot deadlock."""
    from helpdesk import tasks
    from helpdesk.models import Assignment, Case

    # Only what routing reads: the encrypted content is never decrypted here.
    fields = ("need__slug", "languages", "volunteer", "status", "content_destroyed_at")
    fields += ("needs_routing", "pool_notified_at")
    cases = Case.objects.select_related("need").only(*fields)
    with transaction.atomic():
        case = cases.filter(pk=case_id).first()
        if case is None:
            return None
        if is_settled(case):
            return leave_settled(case)
        candidates = candidates_for(case, lock=True)
        # Re-read under the lock: a claim or another routing may have won meanwhile.
        # of=("self",) locks the case row only, not the need it is joined to.
        case = cases.select_for_update(of=("self",)).get(pk=case_id)
        if is_settled(case):
            return leave_settled(case)
        decision = decide(
            CaseFacts(need=case.need.slug, languages=tuple(case.languages)),
            candidates,
            today=timezone.localdate(),
        )
        case.needs_routing = False
        if decision is None:
            case.save(update_fields=["needs_routing"])
            if case.pool_notified_at is None:
                # The task claims pool_notified_at itself, so a notice lost to a broker
                # outage is queued again the next time this case is routed.
                tasks.enqueue_on_commit(tasks.notify_pool, case.pk)
            logger.info("Case %s waits in the pool", case.pk)
            return None
        case.volunteer_id = decision.volunteer_id
        # A case that comes back to the pool later is news again for the coordinators.
        case.pool_notified_at = None
        case.save(update_fields=["needs_routing", "volunteer", "pool_notified_at"])
        assignment = Assignment.objects.create(case=case, volunteer_id=decision.volunteer_id)
        tasks.enqueue_on_commit(tasks.notify_assignment, assignment.pk)
        logger.info("Case %s assigned to volunteer %s", case.pk, decision.volunteer_id)
        return decision.volunteer_id


def request_routing(case_id: int) -> None:
    """Queue routing after commit. If the broker cannot be reached the case keeps
    `needs_routing` and the periodic sweep routes it: nothing is lost."""
    from helpdesk.tasks import route_case as route_case_task

    try:
        route_case_task.delay(case_id)
    except Exception:  # any broker failure; the sweep is the safety net
        logger.warning("Could not queue routing for case %s; the sweep will route it", case_id)


def sweep() -> int:
    """Route every case whose routing never ran, then drain the pool in case a drain
    request was lost; a beat task and a command call it. Returns how many cases were
    routed or placed in the pool, plus how many left the pool."""
    from helpdesk.models import Case

    routed = 0
    awaiting = Case.objects.awaiting_routing().order_by("-urgent", "created_at")
    for case_id in list(awaiting.values_list("pk", flat=True)):
        route_case(case_id)
        routed += 1
    return routed + drain_pool()


def anyone_has_room(today: date) -> bool:
    """Whether any active, unpaused volunteer is below capacity: draining a full desk
    stops after this one query instead of trying every waiting case."""
    from helpdesk.models import Case, VolunteerProfile

    return (
        VolunteerProfile.objects.filter(user__is_active=True)
        .exclude(paused_until__gte=today)
        .annotate(
            open_cases=Count(
                "user__cases", filter=~Q(user__cases__status=Case.Status.CLOSED), distinct=True
            )
        )
        .filter(open_cases__lt=F("capacity"))
        .exists()
    )


def drain_pool() -> int:
    """Offer the cases waiting in the pool again, urgent first, then oldest, as long as
    someone has room. Returns how many found a volunteer."""
    from helpdesk.models import Case

    waiting = list(
        Case.objects.open()
        .with_content()
        .filter(volunteer__isnull=True, needs_routing=False)
        .order_by("-urgent", "created_at", "pk")
        .values_list("pk", flat=True)
    )
    assigned = 0
    room = bool(waiting) and anyone_has_room(timezone.localdate())
    for case_id in waiting:
        if not room:
            break
        if route_case(case_id) is not None:
            assigned += 1
            room = anyone_has_room(timezone.localdate())
    return assigned


def request_drain() -> None:
    """Drain the pool once the current transaction commits. Call it after anything that
    can make room: a case closes or is handed back, a volunteer unpauses, joins, is
    reactivated, gains a language or a need, or has their capacity raised. A broker
    outage only delays the drain until the next sweep."""
    from helpdesk import tasks

    tasks.enqueue_on_commit(tasks.drain_pool)


def reclaim_unopened(*, now: datetime | None = None) -> int:
    """Take back every assignment not opened within ASSIGNMENT_OPEN_HOURS and route the
    case again, to someone else; a beat task and a command call it. Returns how many."""
    from helpdesk.models import Assignment, Case

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
    from helpdesk.models import Assignment, Case

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
