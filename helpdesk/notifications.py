"""Emails to staff about cases: the case's reference and a link to the desk, never
anything the person wrote (no description, messages, contact details or country).
Also the one notice about the library: a piece of guidance past its review date.

Each notice is sent by a task in helpdesk/tasks.py that takes an id and calls one of
the `notify_*` functions below, queued after commit (helpdesk/queue.py). Running a task
twice sends one email: each notice claims a column of its row before the email leaves
(`send_claimed`): the pool notice `Case.pool_notified_at`, the assignment notice
`Assignment.notified_at`, the message notice `Message.notified_at`, the escalation
`Case.escalation_notified_at`, the referral follow-up `Referral.follow_up_notified_at`,
the overdue guidance `Guidance.review_notified_at`. Celery acknowledges late, so a task
can be delivered again after a worker dies: the claim, not the broker, makes it once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from helpdesk.models import (
    OPEN_REFERRAL,
    Assignment,
    Case,
    Message,
    Referral,
    ReferralEvent,
    User,
)
from helpdesk.roles import Role
from resources.models import Guidance

# A notice not sent within ASSIGNMENT_NOTICE_GRACE_SECONDS of its assignment (so its task
# is not merely queued behind others) is queued again by the sweep, for a day.
NOTICE_CATCH_UP = timedelta(days=1)

# The fields a notice may read. Loading nothing else means the encrypted content is not
# even decrypted in the worker that sends the email.
NOTICE_FIELDS = ("reference", "volunteer", "status", "content_destroyed_at")


def case_url(case: Case) -> str:
    # Built from the reference rather than reversed: the staff URLs belong to the staff
    # views, and a notice must not fail because a route was renamed.
    return f"{settings.SITE_URL}/desk/cases/{case.reference}/"


def pool_url() -> str:
    return f"{settings.SITE_URL}/desk/pool/"


# Who a notice goes to: an address and the language its owner reads the desk in.
Recipient = tuple[str, str]


def recipient(user: User) -> Recipient:
    return (user.email, user.language)


def coordinator_emails() -> list[Recipient]:
    return list(
        User.objects.filter(is_active=True, role=Role.COORDINATOR)
        .order_by("pk")
        .values_list("email", "language")
    )


def render_notice(name: str, context: dict, language: str) -> tuple[str, str]:
    context = {"site_name": settings.SITE_NAME, **context}
    with translation.override(language):
        subject = render_to_string(f"emails/{name}_subject.txt", context)
        body = render_to_string(f"emails/{name}_body.txt", context)
    return " ".join(subject.split()), body


def send_notice(name: str, context: dict, recipients: Sequence[Recipient | str]) -> int:
    """One email per recipient, so coordinators never see each other's addresses, each
    in its recipient's language (an address alone: the desk's default language)."""
    rendered: dict[str, tuple[str, str]] = {}
    messages = []
    for entry in recipients:
        address, language = entry if isinstance(entry, tuple) else (entry, settings.LANGUAGE_CODE)
        if language not in rendered:
            rendered[language] = render_notice(name, context, language)
        subject, body = rendered[language]
        messages.append((subject, body, None, [address]))
    return send_mass_mail(messages)


def notify_assignment(assignment_id: int) -> bool:
    """Tell a volunteer a case is theirs, if it still is, once."""
    due = Assignment.objects.filter(
        pk=assignment_id,
        ended_at__isnull=True,
        notified_at__isnull=True,
        volunteer__is_active=True,
        case__volunteer=F("volunteer"),
        case__content_destroyed_at__isnull=True,
    )
    # Everything the email needs is read before the claim: between the claim and the
    # email, nothing may fail that would leave a notice claimed and never sent.
    assignment = due.select_related("volunteer").first()
    if assignment is None:
        return False
    case = Case.objects.only(*NOTICE_FIELDS).get(pk=assignment.case_id)
    context = {
        "reference": case.reference,
        "url": case_url(case),
        "hours": settings.ASSIGNMENT_OPEN_HOURS,
    }
    if not due.update(notified_at=timezone.now()):
        return False  # another run claimed it meanwhile
    claimed = Assignment.objects.filter(pk=assignment_id)
    with released_on_failure(claimed, "notified_at"):
        return bool(send_notice("assignment", context, [recipient(assignment.volunteer)]))


@contextmanager
def released_on_failure(claimed: QuerySet, field: str) -> Iterator[None]:
    """The claim of a notice is committed before the email goes out, so a task run again
    after the email left (the database restarted under it, or a redelivery) finds it and
    sends nothing. A send that fails releases the claim, so that a retry can send. Only a
    worker killed while talking to the mail server loses a notice (an unopened
    assignment still goes back after ASSIGNMENT_OPEN_HOURS): a duplicate is the
    other choice, and the task must run at most once to any visible effect."""
    try:
        yield
    except Exception:
        claimed.update(**{field: None})
        raise


def unnotified_assignments(*, now=None) -> list[int]:
    """Current assignments of the last day whose notice was never sent: its task was
    lost with the broker, or failed. The sweep queues them again."""
    now = now or timezone.now()
    return list(
        Assignment.objects.filter(
            ended_at__isnull=True,
            notified_at__isnull=True,
            assigned_at__gte=now - NOTICE_CATCH_UP,
            assigned_at__lte=now - timedelta(seconds=settings.ASSIGNMENT_NOTICE_GRACE_SECONDS),
            case__content_destroyed_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def case_volunteer(case: Case | None) -> User | None:
    """The case's volunteer, if it has an active one."""
    if case is None or case.volunteer_id is None:
        return None
    return User.objects.filter(pk=case.volunteer_id, is_active=True).first()


def notify_submitter_message(message_id: int) -> bool:
    """Tell the case's volunteer, if it has one, that the person wrote again, once."""
    message = (
        Message.objects.filter(
            pk=message_id, author=Message.Author.SUBMITTER, notified_at__isnull=True
        )
        .only("case")
        .first()
    )
    if message is None:
        return False
    case = Case.objects.with_content().only(*NOTICE_FIELDS).filter(pk=message.case_id).first()
    volunteer = case_volunteer(case)
    if volunteer is None:
        return False
    context = {"reference": case.reference, "url": case_url(case)}
    sent = send_claimed(
        Message, message_id, "notified_at", "submitter_message", context, [recipient(volunteer)]
    )
    return bool(sent)


def notify_escalation(case_id: int) -> int:
    """Tell every coordinator, once, that a case's first answer is overdue, unless it
    has been answered (or closed) since it was flagged."""
    case = (
        Case.objects.open()
        .with_content()
        .only(*NOTICE_FIELDS)
        .filter(pk=case_id, escalated_at__isnull=False, first_response_at__isnull=True)
        .first()
    )
    if case is None:
        return 0
    context = {"reference": case.reference, "url": case_url(case)}
    recipients = coordinator_emails()
    return send_claimed(Case, case.pk, "escalation_notified_at", "escalation", context, recipients)


def send_claimed(model, pk: int, field: str, notice: str, context: dict, recipients) -> int:
    """Send `notice` if this run claims `field` of the row (still unset): the claim is
    committed first, so a second run sends nothing (see `released_on_failure`)."""
    rows = model.objects.filter(pk=pk)
    if not recipients or not rows.filter(**{f"{field}__isnull": True}).update(
        **{field: timezone.now()}
    ):
        return 0
    with released_on_failure(rows, field):
        return send_notice(notice, context, recipients)


def notify_pool(case_id: int) -> int:
    """Tell every coordinator, once, that a case waits with no volunteer who can take it."""
    due = (
        Case.objects.open()
        .with_content()
        .filter(pk=case_id, volunteer__isnull=True, pool_notified_at__isnull=True)
    )
    # Read before the claim, as in notify_assignment.
    case = due.only(*NOTICE_FIELDS).first()
    if case is None:
        return 0
    context = {"reference": case.reference, "url": case_url(case), "pool_url": pool_url()}
    recipients = coordinator_emails()
    if not due.update(pool_notified_at=timezone.now()):
        return 0
    with released_on_failure(Case.objects.filter(pk=case_id), "pool_notified_at"):
        return send_notice("pool", context, recipients)


def untold_pool_cases(*, now=None) -> list[int]:
    """Cases of the last day waiting in the pool whose coordinators' notice was never
    sent (its task was lost with the broker, or failed). The sweep queues them again."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.ASSIGNMENT_NOTICE_GRACE_SECONDS)
    return list(
        Case.objects.open()
        .with_content()
        .filter(
            volunteer__isnull=True,
            needs_routing=False,
            pool_notified_at__isnull=True,
            created_at__gte=now - NOTICE_CATCH_UP,
            created_at__lte=now - grace,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def notify_referral_follow_up(referral_id: int) -> int:
    """Remind the case's volunteer, once, that a referral's follow-up date has passed."""
    referral = (
        Referral.objects.filter(
            pk=referral_id,
            status__in=OPEN_REFERRAL,
            follow_up_notified_at__isnull=True,
            case__content_destroyed_at__isnull=True,
            case__volunteer__is_active=True,
        )
        .select_related("case__volunteer")
        .only("case__reference", "case__volunteer__email", "case__volunteer__language")
        .first()
    )
    if referral is None:
        return 0
    case = referral.case
    context = {"reference": case.reference, "url": case_url(case)}
    recipients = [recipient(case.volunteer)]
    return send_claimed(
        Referral, referral_id, "follow_up_notified_at", "referral_follow_up", context, recipients
    )


def referral_notice(case_id: int) -> tuple[dict, User | None]:
    """What a notice about a case's referrals says (its reference and the link to its
    referrals), and the case's active volunteer, if any."""
    case = Case.objects.only(*NOTICE_FIELDS).get(pk=case_id)
    return {"reference": case.reference, "url": case_url(case) + "#referrals"}, case_volunteer(case)


def notify_partner_answer(event_id: int) -> int:
    """Tell the case's volunteer, once, that the partner answered a referral or wrote
    back (the coordinators, when the case has no active volunteer). The email says
    neither what the partner said nor who it is."""
    event = (
        ReferralEvent.objects.filter(
            pk=event_id,
            by_partner=True,
            notified_at__isnull=True,
            referral__case__content_destroyed_at__isnull=True,
        )
        .only("referral__case")
        .select_related("referral")
        .first()
    )
    if event is None:
        return 0
    context, volunteer = referral_notice(event.referral.case_id)
    recipients = [volunteer.email] if volunteer else coordinator_emails()
    return send_claimed(
        ReferralEvent, event_id, "notified_at", "partner_answer", context, recipients
    )


def notify_referral_stalled(referral_id: int) -> int:
    """Tell the case's volunteer and every coordinator, once, that a partner has not
    answered a referral in twice the time it stated (helpdesk/partners.py)."""
    referral = (
        Referral.objects.awaiting_partner()
        .filter(pk=referral_id, stall_notified_at__isnull=True)
        .select_related("organisation")
        .first()
    )
    if referral is None or not referral.is_stalled():
        return 0
    context, volunteer = referral_notice(referral.case_id)
    recipients = list(dict.fromkeys([*([volunteer.email] if volunteer else []),
                                     *coordinator_emails()]))  # fmt: skip
    return send_claimed(
        Referral, referral_id, "stall_notified_at", "referral_stalled", context, recipients
    )


def announce_overdue_guidance(*, today: date | None = None) -> int:
    """Tell whoever keeps each piece past its review-by date (its owner, else every
    coordinator), once per overdue period: recording a review starts a new one."""
    sent = 0
    for piece in Guidance.objects.overdue_unannounced(today).with_translations():
        source = piece.source_translation()
        owner = piece.owner if piece.owner_id else None
        recipients = [recipient(owner)] if owner and owner.is_active else coordinator_emails()
        context = {
            "title": source.title if source else piece.slug,
            "review_by": piece.review_by,
            "url": f"{settings.SITE_URL}/desk/library/{piece.slug}/",
        }
        sent += send_claimed(
            Guidance, piece.pk, "review_notified_at", "guidance_overdue", context, recipients
        )
    return sent
