"""Staff emails: a reference and a link, sent once, after commit, and never a word of
what the person wrote."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from celery.app.task import Task
from django.core import mail as outbox
from django.test import TestCase
from django.urls import reverse
from kombu.exceptions import OperationalError

from helpdesk import escalation, notifications, pool, retention, tasks
from helpdesk.models import Case
from helpdesk.roles import Role
from tests.conftest import make_staff
from tests.helpdesk.test_pool import CANARY, START, routed, trained


def assert_no_content(mailbox) -> None:
    assert mailbox
    for mail in mailbox:
        for text in (mail.subject, mail.body):
            assert CANARY not in text
            assert "SY" not in text.split() and "Syria" not in text


def test_links_point_at_the_staff_pages(db):
    case = routed()
    assert notifications.case_url(case).endswith(reverse("case", args=[case.reference]))
    assert notifications.pool_url().endswith(reverse("pool"))


def test_the_volunteer_is_told_of_an_assignment_without_content(db, mailoutbox, settings):
    settings.SITE_URL = "https://desk.example"
    amira = trained("amira@example.org")
    case = routed()
    assert case.volunteer == amira

    [mail] = mailoutbox
    assert mail.to == ["amira@example.org"]
    assert case.reference in mail.subject
    assert f"https://desk.example/desk/cases/{case.reference}/" in mail.body
    assert "24 hours" in mail.body
    assert_no_content(mailoutbox)


def test_the_volunteer_is_told_of_a_new_message(db, mailoutbox, django_capture_on_commit_callbacks):
    trained("amira@example.org")
    case = routed()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        case.add_submitter_message(f"They came back. {CANARY}")

    [mail] = mailoutbox
    assert mail.to == ["amira@example.org"]
    assert case.reference in mail.subject and notifications.case_url(case) in mail.body
    assert_no_content(mailoutbox)


def test_a_message_on_a_pool_case_emails_no_volunteer(
    db, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    case = routed()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case.add_submitter_message(CANARY)
    assert mailoutbox == []


def test_coordinators_are_told_once_that_a_case_waits_in_the_pool(
    db, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    second = make_staff("second@example.org", Role.COORDINATOR, mfa=False)
    retired = make_staff("retired@example.org", Role.COORDINATOR, mfa=False)
    retired.is_active = False
    retired.save()
    trained("farsi@example.org", languages=("fa",))

    case = routed()
    with django_capture_on_commit_callbacks(execute=True):
        pool.sweep()
        pool.drain_pool()
        tasks.notify_pool.delay(case.pk)

    assert sorted(mail.to[0] for mail in mailoutbox) == [coordinator.email, second.email]
    assert all(len(mail.to) == 1 for mail in mailoutbox)  # nobody sees the others
    mail = mailoutbox[0]
    assert case.reference in mail.subject
    assert notifications.case_url(case) in mail.body and notifications.pool_url() in mail.body
    assert_no_content(mailoutbox)


def test_a_case_back_in_the_pool_is_news_again(db, coordinator, mailoutbox):
    amira = trained("amira@example.org")
    case = routed()
    assert case.volunteer == amira and case.pool_notified_at is None
    with (
        time_machine.travel(case.created_at + timedelta(hours=25), tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        pool.reclaim_unopened()  # nobody else speaks Arabic
    case.refresh_from_db()
    assert case.in_pool and case.pool_notified_at is not None
    assert [mail.to for mail in mailoutbox][-1] == [coordinator.email]


def test_a_failed_pool_notice_can_be_sent_again(db, coordinator, monkeypatch, mailoutbox):
    case = routed()  # nobody on the desk: the coordinator was told
    Case.objects.filter(pk=case.pk).update(pool_notified_at=None)

    def broken(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr(notifications, "send_mass_mail", broken)
    with pytest.raises(ConnectionRefusedError):
        tasks.notify_pool.delay(case.pk)
    case.refresh_from_db()
    assert case.pool_notified_at is None  # the claim was rolled back with the send

    monkeypatch.undo()
    assert tasks.notify_pool.delay(case.pk).get() == 1
    assert tasks.notify_pool.delay(case.pk).get() == 0


def test_every_notice_task_sends_once_when_run_twice(db, coordinator, mailoutbox):
    trained("amira@example.org")
    case = routed()  # the assignment notice went out here
    message = case.add_submitter_message(CANARY)
    Case.objects.filter(pk=case.pk).update(escalated_at=START)
    assignment = case.assignments.get()

    for _ in range(2):  # as if Celery delivered each task again
        tasks.notify_assignment.delay(assignment.pk)
        tasks.notify_submitter_message.delay(message.pk)
        tasks.notify_escalation.delay(case.pk)

    subjects = sorted(mail.subject.split(": ", 1)[1] for mail in mailoutbox)
    assert subjects == [
        f"a new message on case {case.reference}",
        f"case {case.reference} is now yours",
        f"case {case.reference} is still waiting for a first answer",
    ]


def test_a_mail_outage_does_not_stop_routing_and_a_retry_sends(db, monkeypatch, mailoutbox, caplog):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr(notifications, "send_mass_mail", broken)
    amira = trained("amira@example.org")
    case = routed()
    assert case.volunteer == amira
    assert "helpdesk.tasks.notify_assignment" in caplog.text

    monkeypatch.undo()
    assert tasks.notify_assignment.delay(case.assignments.get().pk).get() == 1
    assert len(mailoutbox) == 1


def test_no_notice_for_what_is_no_longer_true(db, coordinator, mailoutbox):
    trained("amira@example.org")
    case = routed()
    message = case.add_submitter_message(CANARY)
    Case.objects.filter(pk=case.pk).update(escalated_at=START)
    assignment = case.assignments.get()
    case.reply("Hello", by=case.volunteer)
    case.destroy_content(by_submitter=True)
    mailoutbox.clear()

    assert notifications.notify_assignment(assignment.pk) is False
    assert notifications.notify_submitter_message(message.pk) is False
    assert notifications.notify_escalation(case.pk) == 0
    assert notifications.notify_pool(case.pk) == 0
    assert mailoutbox == []


def test_a_message_is_saved_when_the_broker_is_down(
    db, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    trained("amira@example.org")
    case = routed()

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.notify_submitter_message, "delay", unreachable)
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        message = case.add_submitter_message(f"Still here. {CANARY}")

    assert case.messages.filter(pk=message.pk).exists()
    assert f"helpdesk.tasks.notify_submitter_message({message.pk},)" in caplog.text
    assert CANARY not in caplog.text


def test_tasks_are_queued_after_commit_with_ids_only(
    db, coordinator, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    queued = []
    apply_async = Task.apply_async

    def recording(task, args=None, kwargs=None, **options):
        queued.append((task.name, args, kwargs))
        return apply_async(task, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", recording)
    amira = trained("amira@example.org", capacity=1)
    with time_machine.travel(START, tick=False):
        case = routed(urgent=True)
        waiting = routed()
        with django_capture_on_commit_callbacks(execute=True):
            case.add_submitter_message(f"Please. {CANARY}")
    with (
        time_machine.travel(START + timedelta(hours=25), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        escalation.escalate_overdue()
        pool.reclaim_unopened()
    # Amira let the urgent case go; the slot it freed went to the case that waited.
    assert Case.objects.get(pk=waiting.pk).volunteer == amira
    assert Case.objects.get(pk=case.pk).volunteer is None
    with (
        time_machine.travel(START + timedelta(days=200), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        retention.purge_expired_cases()

    names = {name.removeprefix("helpdesk.tasks.") for name, _, _ in queued}
    assert names >= {
        "route_case",
        "notify_assignment",
        "notify_submitter_message",
        "notify_escalation",
        "notify_pool",
        "drain_pool",
    }
    for _, args, kwargs in queued:
        assert all(type(arg) is int for arg in args or ())
        assert not kwargs
    assert CANARY not in str(queued)
    assert_no_content(mailoutbox)


def test_notices_are_sent_once_even_if_the_cache_was_emptied(db, coordinator, mailoutbox):
    # Redis restarted without its data: what the cache remembered is gone, and the tasks
    # that a killed worker held are delivered again.
    from django.core.cache import cache

    trained("amira@example.org")
    case = routed()
    message = case.add_submitter_message(CANARY)
    Case.objects.filter(pk=case.pk).update(escalated_at=START)
    tasks.notify_submitter_message.delay(message.pk)
    tasks.notify_escalation.delay(case.pk)
    assert len(mailoutbox) == 3
    cache.clear()

    tasks.notify_assignment.delay(case.assignments.get().pk)
    tasks.notify_submitter_message.delay(message.pk)
    tasks.notify_escalation.delay(case.pk)
    assert len(mailoutbox) == 3


def test_the_sweep_sends_an_assignment_notice_whose_task_was_lost(
    db, monkeypatch, mailoutbox, caplog
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    amira = trained("amira@example.org")
    with time_machine.travel(START, tick=False):
        monkeypatch.setattr(tasks.notify_assignment, "delay", broker_down)
        case = routed()
        monkeypatch.undo()
    assert case.volunteer == amira and mailoutbox == []

    with time_machine.travel(START + timedelta(seconds=20), tick=False):
        pool.sweep()  # the task may only be queued behind others: not yet
    assert mailoutbox == []
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        pool.sweep()
        pool.sweep()
    assert [mail.to for mail in mailoutbox] == [[amira.email]]
    assert case.reference in mailoutbox[0].subject
    assert_no_content(mailoutbox)


def test_a_notice_task_that_finds_the_database_down_runs_again(db, monkeypatch, mailoutbox):
    from django.db import OperationalError as DatabaseDown

    trained("amira@example.org")
    with TestCase.captureOnCommitCallbacks(execute=False):
        case = routed()  # routed, but its notice not sent
    mailoutbox.clear()
    assignment = case.assignments.get()
    assignment.notified_at = None
    assignment.save()
    send = notifications.notify_assignment
    calls = []

    def restarting(assignment_id):
        calls.append(assignment_id)
        if len(calls) == 1:
            raise DatabaseDown("the database system is shutting down")
        return send(assignment_id)

    monkeypatch.setattr(notifications, "notify_assignment", restarting)
    # As a worker runs it (a worker does not propagate; it schedules the retry).
    assert tasks.notify_assignment.apply(args=(assignment.pk,), throw=False).get() == 1
    assert calls == [assignment.pk, assignment.pk]
    assert len(mailoutbox) == 1


def test_the_sweep_tells_coordinators_of_a_pool_case_whose_notice_was_lost(
    db, coordinator, monkeypatch, mailoutbox
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with time_machine.travel(START, tick=False):
        monkeypatch.setattr(tasks.notify_pool, "delay", broker_down)
        case = routed()  # nobody can take it
        monkeypatch.undo()
    assert case.in_pool and mailoutbox == []

    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        pool.sweep()
        pool.sweep()
    assert [mail.to for mail in mailoutbox] == [[coordinator.email]]
    assert case.reference in mailoutbox[0].subject
    assert_no_content(mailoutbox)


def test_each_staff_member_gets_the_notice_in_their_language(db, coordinator):
    coordinator.language = "fr"
    coordinator.save()
    english = make_staff("second@example.org", Role.COORDINATOR)
    sent = notifications.send_notice(
        "escalation",
        {"reference": "ABCD1234", "url": "https://desk.example/x"},
        notifications.coordinator_emails(),
    )
    assert sent == 2
    by_address = {message.to[0]: message for message in outbox.outbox}
    french, plain = by_address[coordinator.email], by_address[english.email]
    assert "ABCD1234" in french.body and "ABCD1234" in plain.body
    assert french.body.startswith("Bonjour") and plain.body.startswith("Hello")
