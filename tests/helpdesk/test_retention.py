"""Retention: content is destroyed after the retention period or a long absence; the
anonymous statistics stay."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import TestCase

from helpdesk import retention, tasks
from helpdesk.models import Case, CloseReason, Message, Note
from tests.helpdesk.test_pool import CANARY, START, routed, trained


def purge_at(moment) -> int:
    with (
        time_machine.travel(moment, tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        return retention.purge_expired_cases()


def closed_case(*, on, reason=CloseReason.RESOLVED) -> Case:
    """A case with a conversation and a note, closed by its volunteer."""
    with time_machine.travel(on - timedelta(days=3), tick=False):
        case = routed()
        case.add_submitter_message(f"More: {CANARY}")
        case.add_note(f"Note: {CANARY}", by=case.volunteer)
        case.reply("We can help.", by=case.volunteer)
    with time_machine.travel(on, tick=False):
        case.set_status(Case.Status.CLOSED, by=case.volunteer, reason=reason)
    return case


def test_a_closed_case_is_purged_after_the_retention_period(db):
    amira = trained("amira@example.org")
    case = closed_case(on=START)
    kept = {
        field: getattr(case, field)
        for field in ("need_id", "country", "languages", "created_at", "closed_at", "urgent")
    }
    assert purge_at(START + timedelta(days=89, hours=23)) == 0
    assert Case.objects.get(pk=case.pk).description

    assert purge_at(START + timedelta(days=90, minutes=1)) == 1

    case.refresh_from_db()
    assert case.content_destroyed and not case.destroyed_by_submitter
    assert case.description == case.contact_details == case.contact_code_word == ""
    assert case.contact_safe_times == "" and case.contact_channel == Case.Channel.NONE
    assert not Message.objects.filter(case=case).exists()
    assert not Note.objects.filter(case=case).exists()
    # What the statistics need stays, the reason for closing included.
    assert {field: getattr(case, field) for field in kept} == kept
    assert case.status == Case.Status.CLOSED and case.close_reason == CloseReason.RESOLVED
    assert case.volunteer == amira and case.assignments.count() == 1


def test_an_open_case_is_purged_when_the_submitter_stays_away(db):
    trained("amira@example.org")
    with time_machine.travel(START, tick=False):
        gone = routed()
        back = routed()
    with time_machine.travel(START + timedelta(days=100), tick=False):
        back.note_submitter_visit(language="ar")

    assert purge_at(START + timedelta(days=179)) == 0
    assert purge_at(START + timedelta(days=180, minutes=1)) == 1

    gone.refresh_from_db()
    assert gone.content_destroyed and gone.description == ""
    assert gone.status == Case.Status.CLOSED and gone.close_reason == CloseReason.RETENTION
    assert gone.closed_at == START + timedelta(days=180, minutes=1)
    assert not Case.objects.get(pk=back.pk).content_destroyed


def test_purging_twice_changes_nothing(db):
    trained("amira@example.org")
    deleted = routed()
    with time_machine.travel(START, tick=False):
        deleted.destroy_content(by_submitter=True)
    closed_case(on=START)

    assert purge_at(START + timedelta(days=91)) == 1
    assert purge_at(START + timedelta(days=92)) == 0
    deleted.refresh_from_db()
    # The person's own deletion stays recorded as theirs.
    assert deleted.destroyed_by_submitter and deleted.close_reason == CloseReason.DELETED
    assert deleted.content_destroyed_at == START


def test_purging_an_abandoned_case_frees_its_volunteer_for_the_pool(db):
    amira = trained("amira@example.org", capacity=1)
    with time_machine.travel(START, tick=False):
        routed()
    with time_machine.travel(START + timedelta(days=170), tick=False):
        waiting = routed()
    assert waiting.volunteer is None

    assert purge_at(START + timedelta(days=181)) == 1
    assert Case.objects.get(pk=waiting.pk).volunteer == amira


def test_the_periods_are_settings(db, settings):
    settings.CASE_RETENTION_DAYS = 7
    trained("amira@example.org")
    closed_case(on=START)
    assert purge_at(START + timedelta(days=6)) == 0
    assert purge_at(START + timedelta(days=8)) == 1


def test_the_command_and_the_beat_task_run_the_same_function(db, capsys):
    entries = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "helpdesk.tasks.purge_expired_cases" in entries
    trained("amira@example.org")
    closed_case(on=START)
    closed_case(on=START + timedelta(days=10))
    with time_machine.travel(START + timedelta(days=91), tick=False):
        call_command("purge_cases")
        assert tasks.purge_expired_cases.delay().get() == 0
    with time_machine.travel(START + timedelta(days=101), tick=False):
        assert tasks.purge_expired_cases.delay().get() == 1
    assert capsys.readouterr().out.strip() == "1 cases purged"
