"""A first answer that is overdue flags the case and tells the coordinators, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import TestCase

from helpdesk import escalation, tasks
from helpdesk.models import Case
from helpdesk.roles import Role
from tests.conftest import make_staff
from tests.helpdesk.test_notifications import assert_no_content
from tests.helpdesk.test_pool import START, routed, trained


def escalate_at(moment) -> int:
    with (
        time_machine.travel(moment, tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        return escalation.escalate_overdue()


@pytest.fixture
def waiting(db):
    """An urgent and an ordinary case, both assigned and neither answered yet."""
    trained("amira@example.org", capacity=5)
    with time_machine.travel(START, tick=False):
        return routed(urgent=True), routed(urgent=False)


def test_an_urgent_case_escalates_after_two_hours(waiting, coordinator, mailoutbox):
    urgent, ordinary = waiting
    mailoutbox.clear()
    assert escalate_at(START + timedelta(hours=1, minutes=59)) == 0

    assert escalate_at(START + timedelta(hours=2, minutes=1)) == 1

    urgent.refresh_from_db()
    assert urgent.escalated_at == START + timedelta(hours=2, minutes=1)
    assert Case.objects.get(pk=ordinary.pk).escalated_at is None
    [mail] = mailoutbox
    assert mail.to == [coordinator.email] and urgent.reference in mail.subject
    assert f"/desk/cases/{urgent.reference}/" in mail.body
    assert_no_content(mailoutbox)


def test_an_ordinary_case_escalates_after_two_days(waiting, coordinator):
    urgent, ordinary = waiting
    assert escalate_at(START + timedelta(hours=47)) == 1  # the urgent one
    assert escalate_at(START + timedelta(hours=48, minutes=1)) == 1
    assert Case.objects.get(pk=ordinary.pk).escalated_at is not None


def test_every_active_coordinator_is_told_once(waiting, coordinator, mailoutbox):
    second = make_staff("second@example.org", Role.COORDINATOR, mfa=False)
    gone = make_staff("gone@example.org", Role.COORDINATOR, mfa=False)
    gone.is_active = False
    gone.save()
    mailoutbox.clear()

    assert escalate_at(START + timedelta(days=3)) == 2
    assert escalate_at(START + timedelta(days=4)) == 0  # already flagged
    with time_machine.travel(START + timedelta(days=4), tick=False):
        tasks.notify_escalation.delay(waiting[0].pk)  # a redelivered task

    recipients = sorted(mail.to[0] for mail in mailoutbox)
    assert recipients == sorted([coordinator.email, second.email] * 2)
    assert_no_content(mailoutbox)


def test_answered_closed_and_deleted_cases_do_not_escalate(waiting, coordinator):
    urgent, ordinary = waiting
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        urgent.reply("We are here.", by=urgent.volunteer)
    ordinary.destroy_content(by_submitter=True)
    closed = routed()
    Case.objects.filter(pk=closed.pk).update(status=Case.Status.CLOSED, created_at=START)

    assert escalate_at(START + timedelta(days=3)) == 0


def test_a_case_answered_after_it_was_flagged_sends_no_late_notice(waiting, mailoutbox):
    urgent, _ = waiting
    with time_machine.travel(START + timedelta(hours=3), tick=False):
        assert escalation.escalate_overdue() == 1  # its notice is queued on commit
    urgent.reply("Sorry for the wait.", by=urgent.volunteer)
    mailoutbox.clear()
    assert tasks.notify_escalation.delay(urgent.pk).get() == 0
    assert mailoutbox == []


def test_a_case_in_the_pool_escalates_too(db, coordinator):
    with time_machine.travel(START, tick=False):
        case = routed(urgent=True)
    assert case.volunteer is None
    assert escalate_at(START + timedelta(hours=3)) == 1


def test_the_deadlines_are_settings(waiting, settings):
    settings.FIRST_RESPONSE_HOURS_URGENT = 6
    settings.FIRST_RESPONSE_HOURS = 12
    assert escalate_at(START + timedelta(hours=5)) == 0
    assert escalate_at(START + timedelta(hours=12, minutes=1)) == 2


def test_the_command_and_the_beat_task_run_the_same_function(waiting, capsys):
    entries = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "helpdesk.tasks.escalate_overdue" in entries
    with time_machine.travel(START + timedelta(hours=3), tick=False):
        call_command("escalate_overdue")
        assert tasks.escalate_overdue.delay().get() == 0
    assert capsys.readouterr().out.strip() == "1 cases escalated"
