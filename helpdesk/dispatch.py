"""Dispatch: routing's decisions (helpdesk/routing.py) applied to cases.

`route_cases` routes a batch of cases in one transaction: it locks the volunteers who
could take them and the cases themselves, asks `routing.decide` for each case in turn
(each decision counting the ones before it, so nobody is given more than their room),
then writes the assignments, and queues the notices after commit. `route_case` is a
batch of one; the sweep and the drain (helpdesk/pool.py) route in batches of BATCH (a
10,000-case pool in about 5 s: bench/routing.py). A case never returns by routing to
someone who held it before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from helpdesk import queue
from helpdesk.models import Assignment, Case, RollupChange, VolunteerProfile
from helpdesk.routing import Candidate, CaseFacts, decide

logger = logging.getLogger(__name__)

# Only what routing reads: the encrypted content is never decrypted here.
ROUTING_FIELDS = (
    "need__slug",
    "languages",
    "volunteer",
    "status",
    "content_destroyed_at",
    "needs_routing",
    "pool_notified_at",
    "created_at",  # the day whose rollups an assignment changes
)


def candidates_for(cases: Sequence[Case], *, lock: bool) -> list[Candidate]:
    """Volunteers who could take one of these cases, with their current load: available
    (VolunteerProfileQuerySet.available), trained for one of their needs, speaking one
    of their languages. With `lock`, their profile rows are locked first, in a stable
    order so that concurrent routings cannot deadlock, and loads are counted after the
    locks are held, so two routings never both see a free slot."""
    fitting = (
        VolunteerProfile.objects.available()
        .trained_for({case.need.slug for case in cases})
        .speaking({code for case in cases for code in case.languages})
    )
    if lock:
        locked = VolunteerProfile.objects.select_for_update().filter(pk__in=fitting.values("pk"))
        ids = list(locked.order_by("pk").values_list("pk", flat=True))
    else:
        ids = list(fitting.values_list("pk", flat=True).distinct())
    # Plain rows and one grouped count per table: model instances, and joining a
    # volunteer's cases and assignments at once, cost more than the decisions.
    profiles = VolunteerProfile.objects.filter(pk__in=ids).values_list(
        "pk", "user_id", "capacity", "paused_until"
    )
    user_ids = [user_id for _, user_id, _, _ in profiles]
    loads = Case.objects.loads(user_ids)
    last_assigned = dict(
        Assignment.objects.filter(volunteer_id__in=user_ids)
        .order_by()
        .values("volunteer_id")
        .annotate(at=Max("assigned_at"))
        .values_list("volunteer_id", "at")
    )
    spoken = related_codes(VolunteerProfile.languages.through, ids, "language__code")
    trained = related_codes(VolunteerProfile.needs.through, ids, "need__slug")
    return [
        Candidate(
            id=user_id,
            languages=frozenset(spoken.get(pk, ())),
            needs=frozenset(trained.get(pk, ())),
            capacity=capacity,
            open_cases=loads.get(user_id, 0),
            paused_until=paused_until,
            last_assigned_at=last_assigned.get(user_id),
        )
        for pk, user_id, capacity, paused_until in profiles
    ]


def related_codes(through, profile_ids: list[int], code: str) -> dict[int, set[str]]:
    codes: dict[int, set[str]] = {}
    rows = through.objects.filter(volunteerprofile_id__in=profile_ids)
    for profile_id, value in rows.values_list("volunteerprofile_id", code):
        codes.setdefault(profile_id, set()).add(value)
    return codes


def is_settled(case: Case) -> bool:
    """Assigned, closed or destroyed: nothing for routing to do."""
    return bool(case.volunteer_id or case.is_closed or case.content_destroyed)


@dataclass
class Batch:
    """One routing transaction's cases, candidates and results."""

    found: dict[int, Case]
    candidates: dict[int, Candidate]
    held_before: dict[int, set[int]]
    # (need, language) → the candidates trained for it and speaking it.
    by_skill: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    outcome: dict[int, int | None] = field(default_factory=dict)
    settled: list[int] = field(default_factory=list)
    pooled: list[Case] = field(default_factory=list)
    assigned: list[Case] = field(default_factory=list)


def route_case(case_id: int) -> int | None:
    """Route one case; returns the volunteer's id, or None if it waits in the pool."""
    return route_cases([case_id]).get(case_id)


def route_cases(case_ids: Sequence[int]) -> dict[int, int | None]:
    """Route cases in the order given, in one transaction; returns each found case's
    volunteer id, or None for a case that waits in the pool.

    Idempotent: a case that is assigned, closed or destroyed is left alone. Locks are
    taken volunteers first, then the cases in id order, the same order as a volunteer's
    claim, so routings and claims cannot deadlock."""
    with transaction.atomic():
        batch = lock_batch(case_ids)
        for case_id in case_ids:
            route_one(batch, case_id)
        write(batch)
    if batch.pooled:
        logger.info("%s case(s) wait in the pool", len(batch.pooled))
    if batch.assigned:
        logger.info("%s case(s) assigned", len(batch.assigned))
    return batch.outcome


def lock_batch(case_ids: Sequence[int]) -> Batch:
    cases = Case.objects.select_related("need").only(*ROUTING_FIELDS)
    found = {case.pk: case for case in cases.filter(pk__in=case_ids)}
    unsettled = [case for case in found.values() if not is_settled(case)]
    candidates = candidates_for(unsettled, lock=True) if unsettled else []
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
    for candidate in candidates:
        for need in candidate.needs:
            for code in candidate.languages:
                by_skill.setdefault((need, code), []).append(candidate.id)
    return Batch(found, {c.id: c for c in candidates}, held_before, by_skill)


def route_one(batch: Batch, case_id: int) -> None:
    case = batch.found.get(case_id)
    if case is None or case_id in batch.outcome:
        return
    if is_settled(case):
        batch.outcome[case_id] = case.volunteer_id
        if case.needs_routing:
            batch.settled.append(case_id)
        return
    facts = CaseFacts(need=case.need.slug, languages=tuple(case.languages))
    excluded = batch.held_before.get(case_id, set())
    # decide() is handed only the volunteers trained for the need and speaking one of
    # the languages, so a batch stays linear in its size.
    fitting = {
        volunteer_id
        for code in facts.languages
        for volunteer_id in batch.by_skill.get((facts.need, code), ())
        if volunteer_id not in excluded
    }
    candidates = [batch.candidates[volunteer_id] for volunteer_id in sorted(fitting)]
    decision = decide(facts, candidates, today=timezone.localdate())
    if decision is None:
        batch.outcome[case_id] = None
        batch.pooled.append(case)
        return
    chosen = batch.candidates[decision.volunteer_id]
    batch.candidates[chosen.id] = replace(
        chosen, open_cases=chosen.open_cases + 1, last_assigned_at=timezone.now()
    )
    batch.outcome[case_id] = chosen.id
    case.volunteer_id = chosen.id
    batch.assigned.append(case)


def write(batch: Batch) -> None:
    """The batch's results, in a few statements, and its notices after commit."""
    if batch.settled:
        Case.objects.filter(pk__in=batch.settled).update(needs_routing=False)
    if batch.pooled:
        Case.objects.filter(pk__in=[case.pk for case in batch.pooled]).update(needs_routing=False)
    for case in batch.pooled:
        if case.pool_notified_at is None:
            # The task claims pool_notified_at itself, so a notice lost to a broker
            # outage is queued again the next time this case is routed.
            queue.after_commit("notify_pool", case.pk)
    if not batch.assigned:
        return
    now = timezone.now()
    assignments = Assignment.objects.bulk_create(
        Assignment(case_id=case.pk, volunteer_id=case.volunteer_id, assigned_at=now)
        for case in batch.assigned
    )
    # Each case takes its current assignment's volunteer, in one UPDATE: bulk_update's
    # expression per case and field costs more than the routing. A case that returns to
    # the pool later is news again for the coordinators (pool_notified_at).
    current = Assignment.objects.filter(case_id=OuterRef("pk"), ended_at__isnull=True)
    Case.objects.filter(pk__in=[case.pk for case in batch.assigned]).update(
        volunteer_id=Subquery(current.values("volunteer_id")[:1]),
        needs_routing=False,
        pool_notified_at=None,
    )
    RollupChange.objects.mark(*(case.created_at for case in batch.assigned))
    # One task for the batch's notices: a publish per case would cost more than routing.
    queue.after_commit("notify_assignment", *[assignment.pk for assignment in assignments])
