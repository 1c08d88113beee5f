"""An assignment nobody opens in time goes back and is routed to someone else."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import TestCase

from helpdesk import pool, tasks
from helpdesk.models import Assignment, Case
from tests.helpdesk.test_notifications import assert_no_content
from tests.helpdesk.test_pool import START, routed, trained


def reclaim_at(moment) -> int:
    with (
        time_machine.travel(moment, tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        return pool.reclaim_unopened()


def assigned_at_start(**facts) -> Case:
    with time_machine.travel(START, tick=False):
        return routed(**facts)


def test_an_unopened_assignment_goes_to_someone_else(db, mailoutbox):
    amira = trained("amira@example.org")
    case = assigned_at_start()
    assert case.volunteer == amira
    basma = trained("basma@example.org")
    mailoutbox.clear()

    assert reclaim_at(START + timedelta(hours=23, minutes=59)) == 0
    assert reclaim_at(START + timedelta(hours=24, minutes=1)) == 1

    case.refresh_from_db()
    assert case.volunteer == basma and not case.needs_routing
    first, second = case.assignments.order_by("assigned_at")
    assert (first.volunteer, first.end_reason) == (amira, pool.NOT_OPENED)
    assert first.ended_at == START + timedelta(hours=24, minutes=1)
    assert second.volunteer == basma and second.ended_at is None
    [mail] = mailoutbox
    assert mail.to == [basma.email] and case.reference in mail.subject
    assert_no_content(mailoutbox)


def test_an_opened_assignment_stays(db):
    amira = trained("amira@example.org")
    trained("basma@example.org")
    case = assigned_at_start()
    with time_machine.travel(START + timedelta(hours=20), tick=False):
        case.mark_opened(by=amira)

    assert reclaim_at(START + timedelta(days=3)) == 0
    assert Case.objects.get(pk=case.pk).volunteer == amira


def test_with_nobody_else_it_waits_in_the_pool_and_never_returns_to_the_same_person(
    db, coordinator, mailoutbox
):
    amira = trained("amira@example.org")
    case = assigned_at_start()
    mailoutbox.clear()

    assert reclaim_at(START + timedelta(days=1, hours=1)) == 1

    case.refresh_from_db()
    assert case.in_pool and not case.needs_routing
    assert [mail.to for mail in mailoutbox] == [[coordinator.email]]  # the pool notice
    # Amira has room again, but she let this case go.
    assert pool.sweep() == 0 and pool.drain_pool() == 0
    assert Case.objects.get(pk=case.pk).volunteer is None
    assert not Assignment.objects.filter(case=case, ended_at__isnull=True).exists()
    assert amira.assignments.get().end_reason == pool.NOT_OPENED


def test_the_slot_freed_goes_to_a_case_waiting_in_the_pool(db):
    amira = trained("amira@example.org", languages=("ar", "fa"), capacity=1)
    basma = trained("basma@example.org", languages=("ar",), capacity=1)
    unopened = assigned_at_start(languages=("ar",))
    taken = assigned_at_start(languages=("ar",))
    waiting = assigned_at_start(languages=("fa",))  # only Amira speaks Farsi
    assert (unopened.volunteer, taken.volunteer, waiting.volunteer) == (amira, basma, None)
    taken.mark_opened(by=basma)

    assert reclaim_at(START + timedelta(days=2)) == 1

    assert Case.objects.get(pk=waiting.pk).volunteer == amira
    assert Case.objects.get(pk=unopened.pk).volunteer is None  # Basma is full


def test_closed_and_deleted_cases_are_left_alone(db):
    amira = trained("amira@example.org")
    closed = assigned_at_start()
    closed.set_status(Case.Status.CLOSED, by=amira, reason="out_of_scope")
    assert reclaim_at(START + timedelta(days=2)) == 0
    assert closed.assignments.get().ended_at is None


def test_the_period_is_a_setting(db, settings):
    settings.ASSIGNMENT_OPEN_HOURS = 2
    trained("amira@example.org")
    assigned_at_start()
    assert reclaim_at(START + timedelta(hours=1)) == 0
    assert reclaim_at(START + timedelta(hours=3)) == 1


def test_reclaiming_twice_takes_back_once(db):
    trained("amira@example.org")
    trained("basma@example.org")
    case = assigned_at_start()
    assert reclaim_at(START + timedelta(days=1, hours=1)) == 1
    # Basma's fresh assignment is not overdue yet; Amira's is already ended.
    assert reclaim_at(START + timedelta(days=1, hours=2)) == 0
    assert case.assignments.count() == 2


def test_the_command_and_the_beat_task_run_the_same_function(db, capsys):
    entries = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "helpdesk.tasks.reclaim_unopened" in entries
    trained("amira@example.org")
    assigned_at_start()
    with time_machine.travel(START + timedelta(days=2), tick=False):
        call_command("reclaim_unopened")
        assert tasks.reclaim_unopened.delay().get() == 0
    assert capsys.readouterr().out.strip() == "1 unopened assignments taken back"
