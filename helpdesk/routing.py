"""Routing: which volunteer gets a case, decided over plain values.

`gaps` says why a volunteer cannot be given a case (deactivated, paused, not trained
for the need, speaking none of the person's languages, at capacity); `decide` picks,
among those with no gap, an earlier language preference first, then the lowest load
relative to capacity, then whoever waited longest since their last assignment. Nothing
here touches the database: helpdesk/dispatch.py feeds these functions from the
QuerySets in helpdesk/models.py and applies the decisions under row locks, and
helpdesk/pool.py keeps the pool moving (sweep, drain, reclaim).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime


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


# What can stand between a case and a volunteer (gaps()), in the order a hand-over
# warning names them.
INACTIVE = "inactive"
PAUSED = "paused"
NEED = "need"
LANGUAGE = "language"
FULL = "full"


def gaps(case: CaseFacts, candidate: Candidate, *, today: date) -> list[str]:
    """Why this volunteer cannot be given this case now; empty: they can. The one
    definition of eligibility in Python, used by decide() and by the hand-over warning
    (its SQL twin is VolunteerProfileQuerySet.eligible_for)."""
    missing = []
    if not candidate.active:
        missing.append(INACTIVE)
    if is_paused(candidate.paused_until, today):
        missing.append(PAUSED)
    if case.need not in candidate.needs:
        missing.append(NEED)
    if not candidate.languages.intersection(case.languages):
        missing.append(LANGUAGE)
    if candidate.open_cases >= candidate.capacity:
        missing.append(FULL)
    return missing


def decide(case: CaseFacts, candidates: Sequence[Candidate], *, today: date) -> Decision | None:
    """Among the eligible, an earlier language preference wins, then the lowest load
    relative to capacity, then whoever waited longest since their last assignment."""
    best: tuple | None = None
    decision = None
    for candidate in candidates:
        if gaps(case, candidate, today=today):
            continue
        rank = next(i for i, code in enumerate(case.languages) if code in candidate.languages)
        key = (
            rank,
            candidate.open_cases / candidate.capacity,
            candidate.last_assigned_at.timestamp() if candidate.last_assigned_at else float("-inf"),
            candidate.id,
        )
        if best is None or key < best:
            best, decision = key, Decision(candidate.id, case.languages[rank])
    return decision
