"""Referrals: a small state machine with its rules in one place.

drafted → sent → acknowledged → accepted / declined / no response → completed.
A referral cannot be sent without the person's recorded consent; it cannot end in
success without an outcome note, nor in failure without a reason and a note. Every
transition is timestamped and attributed (ReferralEvent). Referrals are work on a case:
the case must allow it (Case.refusal: not closed, not destroyed, its volunteer or a
coordinator).

A partner organisation answers through its link (helpdesk/partners.py) by the same
`advance`, with `partner=True`: it may only acknowledge, accept, decline (a reason from
its list; a note only with "other") or complete, and only where the table allows. Its
answer is taken on a closed case too (Case.refusal's PARTNER action): the partner
cannot know the case was closed; the answer is recorded and the desk told, and the
case stays as it is."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk import queue
from helpdesk.models import (
    OPEN_REFERRAL,
    AccessLogEntry,
    Case,
    Referral,
    ReferralEvent,
    RollupChange,
    User,
)

S = Referral.Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFTED: frozenset({S.SENT}),
    S.SENT: frozenset({S.ACKNOWLEDGED, S.ACCEPTED, S.DECLINED, S.NO_RESPONSE}),
    S.ACKNOWLEDGED: frozenset({S.ACCEPTED, S.DECLINED, S.NO_RESPONSE}),
    S.ACCEPTED: frozenset({S.COMPLETED, S.NO_RESPONSE}),
    S.DECLINED: frozenset(),
    S.NO_RESPONSE: frozenset(),
    S.COMPLETED: frozenset(),
}
FAILED = frozenset({S.DECLINED, S.NO_RESPONSE})
ANSWERS = frozenset({S.ACKNOWLEDGED, S.ACCEPTED, S.DECLINED, S.NO_RESPONSE})
OUTCOMES = frozenset({S.ACCEPTED, S.DECLINED, S.NO_RESPONSE, S.COMPLETED})
OPEN = OPEN_REFERRAL
# What a partner may record itself: "sent" and "no response" are the desk's to say.
PARTNER_ANSWERS = frozenset({S.ACKNOWLEDGED, S.ACCEPTED, S.DECLINED, S.COMPLETED})
R = Referral.FailureReason
# Why a partner declines, from its own list.
PARTNER_DECLINE_REASONS = (R.OUT_OF_MANDATE, R.NO_CAPACITY, R.NOT_COVERED, R.OTHER)


class ReferralError(Exception):
    """A transition the rules refuse; the message says why, for the volunteer."""


def draft(
    *,
    case: Case,
    organisation,
    by: User,
    subject: str,
    body: str,
    template=None,
    language: str = "",
    follow_up_on: date | None = None,
) -> Referral:
    case.require(AccessLogEntry.Action.REFERRAL, by)
    with transaction.atomic():
        referral = Referral.objects.create(
            case=case,
            organisation=organisation,
            template=template,
            language=language,
            subject=subject,
            body=body,
            created_by=by,
            follow_up_on=follow_up_on,
        )
        ReferralEvent.objects.create(referral=referral, status=S.DRAFTED, by=by)
        AccessLogEntry.objects.record(case, by, AccessLogEntry.Action.REFERRAL)
    return referral


def record_consent(*, referral: Referral, by: User) -> None:
    referral.case.require(AccessLogEntry.Action.REFERRAL, by)
    referral.consent_at = timezone.now()
    referral.consent_by = by
    referral.save(update_fields=["consent_at", "consent_by"])
    AccessLogEntry.objects.record(referral.case, by, AccessLogEntry.Action.REFERRAL)


def refusal(referral: Referral, to: str, *, reason: str, note: str, partner: bool) -> str | None:
    """Why `referral` may not become `to` now, or None: the table, consent before
    sending, an outcome note to complete, a reason (and a note) to fail. The answer for
    volunteers and partners alike, and for the partner's page that offers only what
    it allows."""
    if to not in TRANSITIONS[referral.status] or (partner and to not in PARTNER_ANSWERS):
        return _("A referral that is %(now)s cannot become %(to)s.") % {
            "now": referral.get_status_display().lower(),
            "to": S(to).label.lower(),
        }
    if to == S.SENT and referral.consent_at is None:
        return _("Record the person's consent before sending.")
    if to in FAILED:
        # A partner's reason from its list speaks for itself; "other" needs a word.
        reasons = PARTNER_DECLINE_REASONS if partner else R.values
        needs_note = not partner or reason == R.OTHER
        if reason not in reasons or (needs_note and not note.strip()):
            return _("Say why it did not work out, with a short note.")
    if to == S.COMPLETED and not note.strip():
        return _("Describe the outcome before marking it completed.")
    return None


def advance(
    *,
    referral: Referral,
    to: str,
    by: User | None,
    partner: bool = False,
    reason: str = "",
    note: str = "",
    follow_up_on: date | None = None,
) -> Referral:
    """Move the referral to `to`, or raise ReferralError saying why not. `partner`: the
    receiving organisation answers through its link (`by` is then None)."""
    if partner != (by is None):
        raise ValueError("An answer is either a staff member's or the partner's.")
    action = AccessLogEntry.Action.PARTNER if partner else AccessLogEntry.Action.REFERRAL
    with transaction.atomic():
        referral = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
        referral.case.require(action, by)
        why_not = refusal(referral, to, reason=reason, note=note, partner=partner)
        if why_not is not None:
            raise ReferralError(why_not)
        now = timezone.now()
        referral.status = to
        if to == S.SENT:
            referral.sent_at = now
        if to in ANSWERS and referral.first_answer_at is None:
            referral.first_answer_at = now
        if to in OUTCOMES:
            referral.outcome_at = now
        if to in FAILED:
            referral.failure_reason = reason
        if note.strip():
            referral.outcome_note = note.strip()
        if follow_up_on is not None:
            referral.follow_up_on, referral.reminded_at = follow_up_on, None
            referral.follow_up_notified_at = None
        referral.save()
        event = ReferralEvent.objects.create(
            referral=referral, status=to, at=now, by=by, by_partner=partner, note=note.strip()
        )
        AccessLogEntry.objects.record(referral.case, by, action)
        if to == S.SENT and referral.case.status != Case.Status.CLOSED:
            Case.objects.filter(pk=referral.case_id).update(status=Case.Status.REFERRED)
            RollupChange.objects.mark(referral.case.created_at)
        if partner:
            queue.after_commit("notify_partner_answer", event.pk)
    return referral


def partner_message(*, referral: Referral, text: str) -> ReferralEvent:
    """A partner writes to the volunteer about the referral without changing it; taken
    in any state, as its answers are (Case.refusal's PARTNER action)."""
    if not text.strip():
        raise ReferralError(_("Write your message first."))
    with transaction.atomic():
        referral = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
        referral.case.require(AccessLogEntry.Action.PARTNER, None)
        event = ReferralEvent.objects.create(
            referral=referral,
            kind=ReferralEvent.Kind.MESSAGE,
            status=referral.status,
            by_partner=True,
            note=text.strip(),
        )
        AccessLogEntry.objects.record(referral.case, None, AccessLogEntry.Action.PARTNER)
        queue.after_commit("notify_partner_answer", event.pk)
    return event


def overdue_follow_ups(today: date | None = None):
    today = today or timezone.localdate()
    return Referral.objects.filter(
        status__in=OPEN, follow_up_on__lt=today, reminded_at__isnull=True
    ).select_related("case")


def remind_overdue_follow_ups(*, today: date | None = None) -> int:
    """Tell each volunteer once about their referrals whose follow-up date passed; a beat
    task and a command call it. Returns how many reminders were queued."""
    count = 0
    for referral in overdue_follow_ups(today):
        with transaction.atomic():
            claimed = Referral.objects.filter(pk=referral.pk, reminded_at__isnull=True).update(
                reminded_at=timezone.now()
            )
            if claimed:
                queue.after_commit("notify_referral_follow_up", referral.pk)
                count += 1
    return count


# What the person reads in their inbox when told about a referral, in their language.
NEWS_FOR_THE_PERSON = {
    S.SENT: gettext_lazy(
        "We have contacted %(organisation)s about your situation, with your agreement. "
        "We will tell you here when they answer."
    ),
    S.ACKNOWLEDGED: gettext_lazy("%(organisation)s has received our message and is looking at it."),
    S.ACCEPTED: gettext_lazy(
        "Good news: %(organisation)s has agreed to help you. We will explain the next steps here."
    ),
    S.DECLINED: gettext_lazy(
        "%(organisation)s cannot help this time. We will look at other options with you."
    ),
    S.NO_RESPONSE: gettext_lazy(
        "%(organisation)s has not answered us. We will look at other options with you."
    ),
    S.COMPLETED: gettext_lazy("The help from %(organisation)s has been completed."),
}


def tell_the_person(*, referral: Referral, by: User) -> None:
    """Put a short note about the referral's status into the person's inbox, written in
    the language of their pages."""
    template = NEWS_FOR_THE_PERSON.get(referral.status)
    if template is None:
        raise ReferralError("There is nothing to tell the person about a draft yet.")
    with translation.override(referral.case.language):
        text = str(template) % {"organisation": referral.organisation.name}
    referral.case.tell(text, by=by)
