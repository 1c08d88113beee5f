"""The pool: cases nobody could take wait there and leave it, urgent first, as soon as
a volunteer has room. The helpers at the top are shared by the other tests of the
desk's background jobs (notifications, escalation, retention, reclaim)."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

import time_machine
from django.test import TestCase
from django.utils import timezone
from kombu.exceptions import OperationalError

from helpdesk import cases, pool, tasks
from helpdesk.models import Case, User
from helpdesk.roles import Role
from resources.models import Need
from tests.conftest import make_staff, train

CANARY = "CANARY-background-9c41-never-in-mail-log-or-task"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def trained(
    email: str, *, languages=("ar",), needs=("leave",), capacity=2, role=Role.VOLUNTEER
) -> User:
    user = make_staff(email, role, mfa=False)
    return train(user, languages=languages, needs=needs, capacity=capacity)


def submitted(*, need="leave", languages=("ar",), urgent=False) -> Case:
    """A concern as the form saves it, with the canary in every content field. Run it
    inside `django_capture_on_commit_callbacks(execute=True)` to route it too."""
    return cases.submit_concern(
        receipt_hash=secrets.token_hex(32),
        submission_key=secrets.token_hex(16),
        for_whom=Case.ForWhom.SELF,
        need=Need.objects.get(slug=need),
        country="SY",
        languages=list(languages),
        language=languages[0],
        urgent=urgent,
        description=f"They found my messages. {CANARY}",
        contact_channel=Case.Channel.SIGNAL,
        contact_details=f"+000 {CANARY}",
        contact_safe_times=f"evenings {CANARY}",
        contact_code_word=f"tulip {CANARY}",
    )


def in_pool(case: Case) -> bool:
    case.refresh_from_db()
    return case.volunteer_id is None and not case.needs_routing


def routed(**facts) -> Case:
    """Submit a concern and run what its commit queues: routing, then the notices."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        case = submitted(**facts)
    case.refresh_from_db()
    return case


def test_a_case_nobody_can_take_waits_in_the_pool(db):
    trained("farsi@example.org", languages=("fa",))
    case = routed()
    assert in_pool(case)
    assert case.in_pool and case.pool_notified_at is not None


def test_drain_assigns_urgent_cases_first_then_the_oldest(db):
    with time_machine.travel(START, tick=False):
        oldest = routed()
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        urgent = routed(urgent=True)
    with time_machine.travel(START + timedelta(hours=2), tick=False):
        newest = routed()
    amira = trained("amira@example.org", capacity=2)

    assert pool.drain_pool() == 2

    assert Case.objects.get(pk=urgent.pk).volunteer == amira
    assert Case.objects.get(pk=oldest.pk).volunteer == amira
    assert in_pool(newest)


def test_drain_skips_cases_nobody_fits_and_routes_the_ones_behind_them(db):
    farsi = routed(languages=("fa",))
    arabic = routed(languages=("ar",))
    amira = trained("amira@example.org", languages=("ar",))
    assert pool.drain_pool() == 1
    assert in_pool(farsi)
    assert Case.objects.get(pk=arabic.pk).volunteer == amira


def test_a_full_desk_is_not_drained_case_by_case(db, django_assert_max_num_queries):
    trained("amira@example.org", capacity=1)
    routed()
    for _ in range(10):
        routed()
    with django_assert_max_num_queries(2):
        assert pool.drain_pool() == 0


def test_a_paused_or_inactive_volunteer_has_no_room(db):
    paused = trained("paused@example.org")
    paused.profile.paused_until = timezone.localdate() + timedelta(days=7)
    paused.profile.save()
    inactive = trained("inactive@example.org")
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    case = routed()
    assert pool.drain_pool() == 0
    assert in_pool(case)


def test_a_case_the_submitter_deletes_frees_a_slot_for_the_pool(
    db, django_capture_on_commit_callbacks
):
    amira = trained("amira@example.org", capacity=1)
    first = routed()
    waiting = routed()
    assert first.volunteer == amira and in_pool(waiting)

    with django_capture_on_commit_callbacks(execute=True):
        first.destroy_content(by_submitter=True)

    assert Case.objects.get(pk=waiting.pk).volunteer == amira


def test_the_sweep_drains_the_pool_when_a_drain_request_was_lost(db):
    amira = trained("amira@example.org", capacity=0)
    case = routed()
    assert in_pool(case)
    amira.profile.capacity = 1
    amira.profile.save()  # nobody called request_drain

    assert pool.sweep() == 1
    assert Case.objects.get(pk=case.pk).volunteer == amira


def test_request_drain_runs_after_commit(db, django_capture_on_commit_callbacks):
    case = routed()
    amira = trained("amira@example.org")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pool.request_drain()
    assert in_pool(case)  # nothing ran inside the transaction
    for callback in callbacks:
        callback()
    assert Case.objects.get(pk=case.pk).volunteer == amira


def test_request_drain_survives_a_broker_outage(
    db, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    case = routed()

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.drain_pool, "delay", unreachable)
    caplog.set_level(logging.WARNING)
    with django_capture_on_commit_callbacks(execute=True):
        pool.request_drain()  # does not raise
    assert "Could not queue (or, eager, run) helpdesk.tasks.drain_pool()" in caplog.text
    assert CANARY not in caplog.text
    assert in_pool(case)


def test_a_case_a_coordinator_returned_is_not_routed_back_to_the_same_volunteer(db, coordinator):
    amira = trained("amira@example.org")
    case = routed()
    assert case.volunteer == amira
    case.release(by=coordinator)

    assert pool.drain_pool() == 0
    assert in_pool(case)

    basma = trained("basma@example.org")
    assert pool.drain_pool() == 1
    assert Case.objects.get(pk=case.pk).volunteer == basma


def test_draining_twice_assigns_once(db):
    case = routed()
    trained("amira@example.org")
    assert pool.drain_pool() == 1
    assert pool.drain_pool() == 0
    assert case.assignments.count() == 1


def test_the_drain_task_runs_the_same_function(db):
    case = routed()
    amira = trained("amira@example.org")
    assert tasks.drain_pool.delay().get() == 1
    assert Case.objects.get(pk=case.pk).volunteer == amira


def test_a_pool_larger_than_a_batch_is_drained_in_order_within_capacity(db, monkeypatch):
    monkeypatch.setattr(pool, "BATCH", 3)
    with time_machine.travel(START, tick=False):
        waiting = [routed() for _ in range(7)]
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        urgent = routed(urgent=True)
    amira = trained("amira@example.org", capacity=2)
    basma = trained("basma@example.org", capacity=1)

    assert pool.drain_pool() == 3
    assert Case.objects.filter(volunteer=amira).count() == 2
    assert Case.objects.filter(volunteer=basma).count() == 1
    # Urgent first, then the oldest; the rest keep waiting.
    assigned = set(Case.objects.filter(volunteer__isnull=False).values_list("pk", flat=True))
    assert assigned == {urgent.pk, waiting[0].pk, waiting[1].pk}
    for case in Case.objects.filter(volunteer__isnull=False):
        [current] = case.assignments.filter(ended_at__isnull=True)
        assert current.volunteer_id == case.volunteer_id


def test_draining_a_pool_costs_queries_per_batch_not_per_case(db, django_assert_max_num_queries):
    for _ in range(30):
        routed()
    for n in range(3):
        trained(f"v{n}@example.org", capacity=10)
    # 16: one of them marks the batch's days for the reports' rollups.
    with django_assert_max_num_queries(16):
        assert pool.drain_pool() == 30
