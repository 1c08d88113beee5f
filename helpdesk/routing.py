"""Routing: which volunteer gets a case.

`decide` is a plain function over plain values: eligible volunteers are active, not
paused, trained for the need, speak one of the person's languages and are below
capacity; among them an earlier language preference wins, then the lowest load relative
to capacity, then whoever waited longest since their last assignment. `route_case`
applies a decision under row locks, so capacity holds also when routings race.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

logger = logging.getLogger(__name__)


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
    """Volunteers who could take this case, with their current load."""
    from helpdesk.models import Case, VolunteerProfile

    profiles = VolunteerProfile.objects.filter(
        user__is_active=True,
        needs__slug=case.need.slug,
        languages__code__in=case.languages,
    ).distinct()
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


def route_case(case_id: int) -> int | None:
    """Route one case; returns the volunteer's id, or None if it waits in the pool.

    Idempotent: a case that is assigned, closed or destroyed is left alone."""
    from helpdesk.models import Assignment, Case

    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("need").filter(pk=case_id).first()
        if case is None:
            return None
        if case.volunteer_id or case.status == Case.Status.CLOSED or case.content_destroyed:
            if case.needs_routing:
                case.needs_routing = False
                case.save(update_fields=["needs_routing"])
            return case.volunteer_id
        decision = decide(
            CaseFacts(need=case.need.slug, languages=tuple(case.languages)),
            candidates_for(case, lock=True),
            today=timezone.localdate(),
        )
        case.needs_routing = False
        if decision is None:
            case.save(update_fields=["needs_routing"])
            logger.info("Case %s waits in the pool", case.pk)
            return None
        case.volunteer_id = decision.volunteer_id
        case.save(update_fields=["needs_routing", "volunteer"])
        Assignment.objects.create(case=case, volunteer_id=decision.volunteer_id)
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
    """Route every case whose routing never ran; a beat task and a command call it."""
    from helpdesk.models import Case

    routed = 0
    for case_id in Case.objects.awaiting_routing().order_by("-urgent", "created_at").values_list(
        "pk", flat=True
    ):
        route_case(case_id)
        routed += 1
    return routed
