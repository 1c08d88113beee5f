"""Routings, drains and claims racing on the real PostgreSQL never push a volunteer
past their capacity, never assign a case twice and never deadlock."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.db.models import Count, Q

from helpdesk import dispatch, pool
from helpdesk.models import Assignment, Case, CaseRefused, User
from tests.helpdesk.test_pool import routed, trained

pytestmark = pytest.mark.services

THREADS = 8
CAPACITIES = (2, 3, 1)
CASES = 30


def race(jobs: list[Callable[[], object]]) -> list[BaseException]:
    """Run the jobs on THREADS threads, all starting at once, each thread on its own
    database connection; returns what went wrong."""
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)
    lock = threading.Lock()
    pending = list(jobs)

    def worker() -> None:
        try:
            start.wait()
            while True:
                with lock:
                    if not pending:
                        return
                    job = pending.pop()
                try:
                    job()
                except CaseRefused:
                    pass  # a claim that lost the race is refused politely: that is fine
                except BaseException as error:  # reported by the test, not lost in a thread
                    errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a routing hung"
    return errors


def claim(case_id: int, user_id: int) -> Callable[[], None]:
    def job() -> None:
        user = User.objects.select_related("profile").get(pk=user_id)
        Case.objects.get(pk=case_id).claim(by=user)

    return job


def test_concurrent_routings_drains_and_claims_never_exceed_capacity(transactional_db):
    assert connection.vendor == "postgresql"
    # The cases are submitted while nobody is on the desk, so all wait in the pool.
    case_ids = [routed(urgent=n % 5 == 0).pk for n in range(CASES)]
    volunteers = [
        trained(f"v{n}@example.org", capacity=capacity) for n, capacity in enumerate(CAPACITIES)
    ]
    rng = random.Random(5)
    jobs: list[Callable[[], object]] = []
    for case_id in case_ids:
        jobs += [lambda case_id=case_id: dispatch.route_case(case_id)] * 2
        jobs.append(claim(case_id, rng.choice(volunteers).pk))
    jobs += [pool.drain_pool] * 4
    rng.shuffle(jobs)

    assert race(jobs) == []

    loads = dict(
        User.objects.filter(pk__in=[v.pk for v in volunteers])
        .annotate(open=Count("cases", filter=~Q(cases__status=Case.Status.CLOSED)))
        .values_list("pk", "open")
    )
    assert loads == {v.pk: capacity for v, capacity in zip(volunteers, CAPACITIES, strict=True)}
    assigned = Case.objects.filter(volunteer__isnull=False)
    assert assigned.count() == sum(CAPACITIES)
    for case in assigned:
        [current] = case.assignments.filter(ended_at__isnull=True)
        assert current.volunteer_id == case.volunteer_id
    assert not Assignment.objects.filter(case__volunteer__isnull=True).exists()
