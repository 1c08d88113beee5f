"""Routing: which volunteer gets a case.

`decide` is a plain function over plain values: eligible volunteers are active, not
paused, trained for the need, speak one of the person's languages and are below
capacity; among them an earlier language preference wins, then the lowest load relative
to capacity, then whoever waited longest since their last assignment. `route_cases`
applies decisions for a batch of cases under row locks, so capacity holds also when
routings race; `route_case` is a batch of one, and the sweep and the drain route in
batches of BATCH (a 10,000-case pool in about 5 s: bench/routing.py).

A case nobody can take waits in the pool (coordinators are told once) and
`drain_pool` offers it again whenever capacity may have appeared: call `request_drain`
after anything that frees a slot or adds a volunteer, language or need. An assignment
left unopened goes back (`reclaim_unopened`); a case never returns by routing to
someone who held it before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
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


def candidates_for(cases: Sequence, *, lock: bool) -> list[Candidate]:
    """Volunteers who could take one of these cases, with their current load: active,
    trained for one of their needs, speaking one of their languages. With `lock`, their
    profile rows are locked first, in a stable order so that concurrent routings cannot
    deadlock, and loads are counted after the locks are held, so two routings never
    both see a free slot."""
    from helpdesk.models import Assignment, Case, VolunteerProfile

    profiles = VolunteerProfile.objects.filter(
        user__is_active=True,
        needs__slug__in={case.need.slug for case in cases},
        languages__code__in={code for case in cases for code in case.languages},
    )
    if lock:
        ids = list(
            VolunteerProfile.objects.select_for_update()
            .filter(pk__in=profiles.values("pk"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    else:
        ids = list(profiles.values_list("pk", flat=True).distinct())
    # Plain rows and one grouped count per table: model instances, and joining a
    # volunteer's cases and assignments at once, cost more than the decisions.
    profiles = VolunteerProfile.objects.filter(pk__in=ids).values_list(
        "pk", "user_id", "capacity", "paused_until"
    )
    user_ids = [user_id for _, user_id, _, _ in profiles]
    loads = dict(
        Case.objects.open()
        .filter(volunteer_id__in=user_ids)
        .order_by()
        .values("volunteer_id")
        .annotate(n=Count("pk"))
        .values_list("volunteer_id", "n")
    )
    last_assigned = dict(
        Assignment.objects.filter(volunteer_id__in=user_ids)
        .order_by()
        .values("volunteer_id")
        .annotate(at=Max("assigned_at"))
        .values_list("volunteer_id", "at")
    )
    spoken: dict[int, set[str]] = {}
    for profile_id, code in VolunteerProfile.languages.through.objects.filter(
        volunteerprofile_id__in=ids
    ).values_list("volunteerprofile_id", "language__code"):
        spoken.setdefault(profile_id, set()).add(code)
    trained: dict[int, set[str]] = {}
    for profile_id, slug in VolunteerProfile.needs.through.objects.filter(
        volunteerprofile_id__in=ids
    ).values_list("volunteerprofile_id", "need__slug"):
        trained.setdefault(profile_id, set()).add(slug)
    return [
        Candidate(
            id=user_id,
            languages=frozenset(spoken.get(pk, ())),
            needs=frozenset(trained.get(pk, ())),
            capacity=capacity,
            open_cases=loads.get(user_id, 0),
            active=True,
            paused_until=paused_until,
            last_assigned_at=last_assigned.get(user_id),
        )
        for pk, user_id, capacity, paused_until in profiles
    ]


def is_settled(case) -> bool:
    """Assigned, closed or destroyed: nothing for routing to do."""
    from helpdesk.models import Case

    return bool(case.volunteer_id or case.status == Case.Status.CLOSED or case.content_destroyed)


# Only what routing reads: the encrypted content is never decrypted here.
ROUTING_FIELDS = (
    "need__slug",
    "languages",
    "volunteer",
    "status",
    "content_destroyed_at",
    "needs_routing",
    "pool_notified_at",
)

# Cases routed in one transaction by the sweep and the drain: enough to make a large
# pool quick, few enough that a volunteer's claim waits for the locks only briefly.
BATCH = 200


def batched(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    ids = iter(ids)
    while batch := list(islice(ids, size)):
        yield batch


def route_case(case_id: int) -> int | None:
    """Route one case; returns the volunteer's id, or None if it waits in the pool."""
    return route_cases([case_id]).get(case_id)


def route_cases(case_ids: Sequence[int]) -> dict[int, int | None]:
    """Route cases in the order given, in one transaction; returns each found case's
    volunteer id, or None for a case that waits in the pool.

    Idempotent: a case that is assigned, closed or destroyed is left alone. Locks are
    taken volunteers first, then the cases in id order, the same order as a volunteer's
    claim, so routings and claims cannot deadlock; the decisions are then made in memory,
    each counting the ones before it, so no volunteer is given more than their room."""
    from helpdesk import tasks
    from helpdesk.models import Assignment, Case

    cases = Case.objects.select_related("need").only(*ROUTING_FIELDS)
    with transaction.atomic():
        found = {case.pk: case for case in cases.filter(pk__in=case_ids)}
        unsettled = [case for case in found.values() if not is_settled(case)]
        candidates = (
            {candidate.id: candidate for candidate in candidates_for(unsettled, lock=True)}
            if unsettled
            else {}
        )
        # Re-read under the lock: a claim or another routing may have won meanwhile.
        # of=("self",) locks the case rows only, not the needs they are joined to.
        locked = cases.select_for_update(of=("self",)).filter(pk__in=[c.pk for c in unsettled])
        relocked = {case.pk: case for case in locked.order_by("pk")}
        for case in unsettled:
            if case.pk not in relocked:  # deleted meanwhile
                del found[case.pk]
        found.update(relocked)
        # Whoever held a case before and no longer does (did not open it, handed it back,
        # was moved off it) is left out: it goes to someone new, or a coordinator decides.
        held_before: dict[int, set[int]] = {}
        for case_id, volunteer_id in Assignment.objects.filter(
            case_id__in=[c.pk for c in unsettled], ended_at__isnull=False
        ).values_list("case_id", "volunteer_id"):
            held_before.setdefault(case_id, set()).add(volunteer_id)

        by_skill: dict[tuple[str, str], list[int]] = {}
        for candidate in candidates.values():
            for need in candidate.needs:
                for code in candidate.languages:
                    by_skill.setdefault((need, code), []).append(candidate.id)
        today, now = timezone.localdate(), timezone.now()
        outcome: dict[int, int | None] = {}
        settled, pooled, assigned = [], [], []
        for case_id in case_ids:
            case = found.get(case_id)
            if case is None or case_id in outcome:
                continue
            if is_settled(case):
                outcome[case_id] = case.volunteer_id
                if case.needs_routing:
                    settled.append(case_id)
                continue
            excluded = held_before.get(case_id, set())
            # Only volunteers trained for the need and speaking one of the languages can
            # be chosen; handing decide() just those keeps a batch linear in its size.
            facts = CaseFacts(need=case.need.slug, languages=tuple(case.languages))
            fitting = {
                volunteer_id
                for code in facts.languages
                for volunteer_id in by_skill.get((facts.need, code), ())
                if volunteer_id not in excluded
            }
            decision = decide(facts, [candidates[i] for i in sorted(fitting)], today=today)
            if decision is None:
                outcome[case_id] = None
                pooled.append(case)
                continue
            chosen = candidates[decision.volunteer_id]
            candidates[chosen.id] = replace(
                chosen, open_cases=chosen.open_cases + 1, last_assigned_at=now
            )
            outcome[case_id] = chosen.id
            case.volunteer_id = chosen.id
            case.needs_routing = False
            # A case that comes back to the pool later is news again for the coordinators.
            case.pool_notified_at = None
            assigned.append(case)

        if settled:
            Case.objects.filter(pk__in=settled).update(needs_routing=False)
        if pooled:
            Case.objects.filter(pk__in=[case.pk for case in pooled]).update(needs_routing=False)
        for case in pooled:
            if case.pool_notified_at is None:
                # The task claims pool_notified_at itself, so a notice lost to a broker
                # outage is queued again the next time this case is routed.
                tasks.enqueue_on_commit(tasks.notify_pool, case.pk)
        if assigned:
            assignments = Assignment.objects.bulk_create(
                Assignment(case_id=case.pk, volunteer_id=case.volunteer_id, assigned_at=now)
                for case in assigned
            )
            # Each case takes its current assignment's volunteer, in one UPDATE:
            # bulk_update's expression per case and field costs more than the routing.
            current = Assignment.objects.filter(case_id=OuterRef("pk"), ended_at__isnull=True)
            Case.objects.filter(pk__in=[case.pk for case in assigned]).update(
                volunteer_id=Subquery(current.values("volunteer_id")[:1]),
                needs_routing=False,
                pool_notified_at=None,
            )
            # One task for the batch's notices: a publish per case would cost more
            # than routing it.
            ids = [assignment.pk for assignment in assignments]
            tasks.enqueue_on_commit(tasks.notify_assignment, *ids)
    if pooled:
        logger.info("%s case(s) wait in the pool", len(pooled))
    if assigned:
        logger.info("%s case(s) assigned", len(assigned))
    return outcome


def request_routing(case_id: int) -> None:
    """Queue routing after commit. If the broker cannot be reached the case keeps
    `needs_routing` and the periodic sweep routes it: nothing is lost."""
    from helpdesk.tasks import route_case as route_case_task

    try:
        route_case_task.delay(case_id)
    except Exception:  # any broker failure; the sweep is the safety net
        logger.warning("Could not queue routing for case %s; the sweep will route it", case_id)


def sweep() -> int:
    """Route every case whose routing never ran, queue again the assignment and pool
    notices that were never sent, then drain the pool in case a drain request was lost; a beat
    task and a command call it. Returns how many cases were
    routed or placed in the pool, plus how many left the pool."""
    from helpdesk import notifications, tasks
    from helpdesk.models import Case

    routed = 0
    awaiting = Case.objects.awaiting_routing().order_by("-urgent", "created_at", "pk")
    for batch in batched(awaiting.values_list("pk", flat=True), BATCH):
        routed += len(route_cases(batch))
    # Notices whose task was lost with the broker, or failed.
    for batch in batched(notifications.unnotified_assignments(), BATCH):
        tasks.enqueue(tasks.notify_assignment, *batch)
    for case_id in notifications.untold_pool_cases():
        tasks.enqueue(tasks.notify_pool, case_id)
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
    for batch in batched(waiting, BATCH):
        if not anyone_has_room(timezone.localdate()):
            break
        outcome = route_cases(batch)
        # A case someone claimed meanwhile is not this drain's doing.
        assigned += sum(1 for volunteer_id in outcome.values() if volunteer_id is not None)
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
