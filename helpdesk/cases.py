"""What happens to a case, as plain keyword-only functions: the intake views, the
staff workspace, the demo loader and the tests all go through these."""

from __future__ import annotations

import secrets
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.models import Case, CloseReason, Message, User
from helpdesk.routing import request_drain, request_routing
from resources.models import Need

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_ATTEMPTS = 3


class DuplicateSubmission(Exception):
    """The same form was sent twice (a reload or a double click)."""


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def submit_concern(
    *,
    receipt_hash: str,
    submission_key: str,
    for_whom: str,
    need: Need,
    country: str,
    languages: list[str],
    language: str,
    urgent: bool,
    description: str,
    contact_channel: str = Case.Channel.NONE,
    contact_details: str = "",
    contact_safe_times: str = "",
    contact_code_word: str = "",
) -> Case:
    """Save a new concern in one transaction and hand it to routing after commit. The
    case is marked as waiting for routing, so the sweep finds it if the queue is down."""
    for attempt in range(REFERENCE_ATTEMPTS):
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    reference=new_reference(),
                    receipt_hash=receipt_hash,
                    submission_key=submission_key,
                    for_whom=for_whom,
                    need=need,
                    country=country,
                    languages=languages,
                    language=language,
                    urgent=urgent,
                    description=description,
                    contact_channel=contact_channel,
                    contact_details=contact_details,
                    contact_safe_times=contact_safe_times,
                    contact_code_word=contact_code_word,
                    needs_routing=True,
                )
                transaction.on_commit(partial(request_routing, case.pk))
            return case
        except IntegrityError:
            if Case.objects.filter(submission_key=submission_key).exists():
                raise DuplicateSubmission from None
            # Else the short reference met one in use (one in ~10^6 at a million
            # cases): draw another rather than answer with an error.
            if attempt == REFERENCE_ATTEMPTS - 1:
                raise


def add_submitter_message(*, case: Case, body: str) -> Message:
    """The person writes again; the case's volunteer, if it has one, is told after commit
    (the task looks the volunteer up then, so a case assigned meanwhile is covered)."""
    from helpdesk import tasks

    with transaction.atomic():
        message = Message.objects.create(case=case, author=Message.Author.SUBMITTER, body=body)
        tasks.enqueue_on_commit(tasks.notify_submitter_message, message.pk)
        case.submitter_seen_at = timezone.now()
        fields = ["submitter_seen_at"]
        if case.status == Case.Status.WAITING:
            case.status = Case.Status.IN_PROGRESS
            fields.append("status")
        case.save(update_fields=fields)
    return message


def reply_to_submitter(
    *,
    case: Case,
    user: User,
    body: str,
    kind: str = Message.Kind.TEXT,
    language: str = "",
) -> Message:
    """A volunteer's answer, shown in the submitter's inbox."""
    with transaction.atomic():
        message = Message.objects.create(
            case=case,
            author=Message.Author.STAFF,
            staff_user=user,
            body=body,
            kind=kind,
            language=language,
        )
        fields = []
        if case.first_response_at is None:
            case.first_response_at = message.created_at
            fields.append("first_response_at")
        if case.status == Case.Status.NEW:
            case.status = Case.Status.IN_PROGRESS
            fields.append("status")
        if fields:
            case.save(update_fields=fields)
    return message


def note_submitter_visit(*, case: Case, language: str) -> None:
    case.submitter_seen_at = timezone.now()
    case.language = language
    case.save(update_fields=["submitter_seen_at", "language"])


def destroy_content(*, case: Case, by_submitter: bool) -> None:
    """Destroy everything the person wrote; keep the anonymous statistics (need,
    country, languages, dates, status). The receipt stops working. Destroying twice
    changes nothing: the first destruction's date and cause stay."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.content_destroyed:
            return
        case.messages.all().delete()
        case.notes.all().delete()
        # Referrals stay for the coordinators' review, without any of their text.
        for referral in case.referrals.all():
            referral.subject = referral.body = referral.outcome_note = ""
            referral.save(update_fields=["subject", "body", "outcome_note"])
        now = timezone.now()
        case.description = ""
        case.contact_details = case.contact_safe_times = case.contact_code_word = ""
        case.contact_channel = Case.Channel.NONE
        case.receipt_hash = "destroyed:" + secrets.token_hex(20)
        case.submission_key = None
        case.content_destroyed_at = now
        case.destroyed_by_submitter = by_submitter
        case.needs_routing = False
        if case.status != Case.Status.CLOSED:
            case.status = Case.Status.CLOSED
            case.closed_at = now
            case.close_reason = CloseReason.DELETED if by_submitter else CloseReason.RETENTION
            if case.volunteer_id:
                # Closing frees a slot for a case waiting in the pool.
                request_drain()
        case.save()
