"""What staff do to a case, as keyword-only functions (views, tests and the demo loader
call these). Each records itself in the access log."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from helpdesk import cases, routing, tasks
from helpdesk.access import log
from helpdesk.models import AccessLogEntry, Assignment, Case, CloseReason, Message, Note, User


class CaseworkError(Exception):
    """A step that cannot be taken now; the message is for the person who tried."""


def mark_opened(*, case: Case, user: User) -> None:
    """The assigned volunteer opened the case: it will not return to the pool unread."""
    Assignment.objects.filter(
        case=case, volunteer=user, ended_at__isnull=True, opened_at__isnull=True
    ).update(opened_at=timezone.now())


def _assign(case: Case, user: User, *, end_reason: str) -> Assignment:
    now = timezone.now()
    Assignment.objects.filter(case=case, ended_at__isnull=True).update(
        ended_at=now, end_reason=end_reason
    )
    assignment = Assignment.objects.create(case=case, volunteer=user, assigned_at=now)
    case.volunteer = user
    case.needs_routing = False
    # If it ever returns to the pool, coordinators are told again.
    case.pool_notified_at = None
    case.save(update_fields=["volunteer", "needs_routing", "pool_notified_at"])
    return assignment


def claim(*, case: Case, user: User) -> None:
    """A volunteer takes a pool case: refused if someone was faster or they are full."""
    with transaction.atomic():
        profile = type(user.profile).objects.select_for_update().get(pk=user.profile.pk)
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.volunteer_id is not None or case.status == Case.Status.CLOSED:
            raise CaseworkError("Someone else has taken this case already.")
        load = Case.objects.open().filter(volunteer=user).count()
        if load >= profile.capacity:
            raise CaseworkError("You are at your capacity. Close or hand over a case first.")
        _assign(case, user, end_reason="")
        Assignment.objects.filter(case=case, volunteer=user, ended_at__isnull=True).update(
            opened_at=timezone.now()
        )
        log(case, user, AccessLogEntry.Action.CLAIM)


def reassign(*, case: Case, to: User | None, by: User) -> None:
    """A coordinator hands a case to someone else, or back to the pool (`to=None`)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if to is None:
            Assignment.objects.filter(case=case, ended_at__isnull=True).update(
                ended_at=timezone.now(), end_reason="returned to the pool"
            )
            case.volunteer = None
            case.save(update_fields=["volunteer"])
            log(case, by, AccessLogEntry.Action.RELEASE)
            routing.request_drain()
        else:
            assignment = _assign(case, to, end_reason="reassigned")
            log(case, by, AccessLogEntry.Action.ASSIGN)
            tasks.enqueue_on_commit(tasks.notify_assignment, assignment.pk)


def add_note(*, case: Case, user: User, body: str) -> Note:
    note = Note.objects.create(case=case, author=user, body=body)
    log(case, user, AccessLogEntry.Action.NOTE)
    return note


def reply(*, case: Case, user: User, body: str) -> None:
    cases.reply_to_submitter(case=case, user=user, body=body)
    log(case, user, AccessLogEntry.Action.REPLY)


def change_status(*, case: Case, user: User, status: str, reason: str = "") -> None:
    if status == Case.Status.CLOSED and reason not in CloseReason.values:
        raise CaseworkError("Closing a case needs a reason.")
    case.status = status
    fields = ["status"]
    if status == Case.Status.CLOSED:
        case.closed_at, case.close_reason = timezone.now(), reason
        fields += ["closed_at", "close_reason"]
    elif case.closed_at:
        case.closed_at, case.close_reason = None, ""
        fields += ["closed_at", "close_reason"]
    case.save(update_fields=fields)
    log(case, user, AccessLogEntry.Action.STATUS)
    if status == Case.Status.CLOSED:
        routing.request_drain()  # a place freed up: the pool may have a case for it


def share_guidance(*, case: Case, user: User, title: str, text: str, language: str) -> None:
    """Put a guidance piece, already in the submitter's language, into their inbox, as
    it reads now (a later edit of the library does not change what they were sent)."""
    cases.reply_to_submitter(
        case=case,
        user=user,
        body=f"# {title}\n\n{text}",
        kind=Message.Kind.GUIDANCE,
        language=language,
    )
    log(case, user, AccessLogEntry.Action.SHARE)
