"""Partners close the loop: a referral sent through Haven, answered by the organisation.

An organisation that takes referrals through Haven (Organisation.takes_referrals) is
sent, once the person's consent is recorded, an email in its language with a link and
nothing about the person. The link opens the partner's page on the public side
(intake's `partner` view), which shows the referral text the volunteer wrote and lets
the organisation answer: acknowledge, accept, decline, complete, or write back. Each
answer goes through the referral state machine (referrals.advance, `partner=True`), and
the volunteer is told by an email that says nothing but the case reference.

A link (PartnerLink) opens one referral; only a hash of its token is kept. It works until
it has gone PARTNER_LINK_IDLE_DAYS unused, until the volunteer or a coordinator revokes
it, or until the case's content is destroyed; an unknown, expired or revoked link gets the
same answer. Every opening is recorded, with its time only.

`chase_partners` (a beat task and a command) sends a partner that has not answered within
its stated time one reminder, with a fresh link (the first one's token is not kept, so
it cannot be mailed again); past twice that time the referral shows as stalled, and the
volunteer and the coordinators are told once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk import invitations, notifications, queue, referrals
from helpdesk.models import (
    AccessLogEntry,
    PartnerLink,
    PartnerLinkOpening,
    Referral,
    User,
    partner_link_expiry,
)

S = Referral.Status
# The partner's other answer: a message to the volunteer, the referral left as it is.
MESSAGE = "message"


def mail_link(referral: Referral, *, template: str) -> PartnerLink:
    """Make a link for the referral and mail it to the partner, in its language. Raises
    if the mail cannot be sent: the caller's transaction then keeps no link."""
    token, digest = PartnerLink.new_token()
    link = PartnerLink.objects.create(referral=referral, token_hash=digest)
    invitations.send_link(
        to=referral.partner_address,
        template=template,
        url=invitations.link_url("intake:partner", token),
        language=referral.partner_language(),
        organisation=referral.organisation.name,
        days=settings.PARTNER_LINK_IDLE_DAYS,
    )
    return link


def send(*, referral: Referral, by: User) -> Referral:
    """Send a drafted referral through Haven: it becomes "sent" (the state machine asks
    for the person's consent first) and the partner is mailed its link. If the mail
    cannot be sent, nothing changes and the error is raised (an OSError)."""
    organisation = referral.organisation
    if not (organisation.takes_referrals and organisation.referral_address):
        raise referrals.ReferralError(
            _("%(organisation)s does not take referrals through Haven: send it yourself.")
            % {"organisation": organisation.name}
        )
    with transaction.atomic():
        referral = referrals.advance(referral=referral, to=S.SENT, by=by)
        referral.partner_address = organisation.referral_address
        referral.save(update_fields=["partner_address"])
        mail_link(referral, template="partner_referral")
    return referral


def send_new_link(*, referral: Referral, by: User) -> PartnerLink:
    """Mail the partner a fresh link to a referral already sent through Haven (its
    links were revoked or have expired). The case must allow work on its referrals."""
    referral.case.require(AccessLogEntry.Action.REFERRAL, by)
    if not referral.through_haven:
        raise referrals.ReferralError(_("This referral was not sent through Haven."))
    with transaction.atomic():
        link = mail_link(referral, template="partner_referral")
        AccessLogEntry.objects.record(referral.case, by, AccessLogEntry.Action.REFERRAL)
    return link


def revoke(*, referral: Referral, by: User) -> int:
    """Every link of the referral stops working at once. Its volunteer or a coordinator
    may, whatever the state of the case (Case.refusal's REVOKE). Returns how many links
    were still usable."""
    referral.case.require(AccessLogEntry.Action.REVOKE, by)
    with transaction.atomic():
        count = referral.partner_links.filter(revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=by
        )
        AccessLogEntry.objects.record(referral.case, by, AccessLogEntry.Action.REVOKE)
    return count


def find(token: str) -> PartnerLink | None:
    """The usable link with this token, or None: unknown, expired, revoked and
    destroyed look the same."""
    return (
        PartnerLink.objects.usable()
        .select_related("referral__organisation", "referral__case")
        .filter(token_hash=PartnerLink.hash_token(token))
        .first()
    )


def used(link: PartnerLink, *, opened: bool) -> None:
    """The link was opened (recorded, when only) or answered through: it stays usable
    PARTNER_LINK_IDLE_DAYS from now."""
    now = timezone.now()
    links = PartnerLink.objects.filter(pk=link.pk)
    links.update(last_used_at=now, expires_at=partner_link_expiry())
    if opened:
        PartnerLinkOpening.objects.create(link=link, at=now)


def respond(*, link: PartnerLink, answer: str, reason: str = "", note: str = "") -> None:
    """The partner answers through its link: a next state of the referral, which the
    state machine allows or refuses (ReferralError says why), or MESSAGE, a message to
    the volunteer (`note`). The volunteer is told after commit, once."""
    if answer == MESSAGE:
        referrals.partner_message(referral=link.referral, text=note)
    else:
        referrals.advance(
            referral=link.referral, to=answer, by=None, partner=True, reason=reason, note=note
        )
    used(link, opened=False)


def offered_answers(referral: Referral) -> list[str]:
    """The answers the partner's page offers now: those the state machine allows a
    partner from the referral's status (the server asks advance() again)."""
    return [to for to in S.values if to in referrals.TRANSITIONS[referral.status]
            and to in referrals.PARTNER_ANSWERS]  # fmt: skip


# The periodic job ------------------------------------------------------------------


def chase_partners(*, now=None) -> tuple[int, int]:
    """Queue one reminder for each partner past its stated time without an answer, and
    one notice to the desk for each referral past twice that time (stalled). A beat task
    and a command call it; the tasks claim their row, so queuing twice sends once.
    Returns (reminders, stall notices) queued."""
    now = now or timezone.now()
    reminders = stalls = 0
    untold = Q(partner_reminded_at__isnull=True) | Q(stall_notified_at__isnull=True)
    waiting = Referral.objects.awaiting_partner().filter(untold).select_related("organisation")
    for referral in waiting.only(
        "status", "sent_at", "partner_address", "partner_reminded_at", "stall_notified_at",
        "organisation__answer_days",
    ):  # fmt: skip
        if referral.partner_reminded_at is None and referral.partner_overdue(now):
            queue.after_commit("remind_partner", referral.pk)
            reminders += 1
        if referral.stall_notified_at is None and referral.is_stalled(now):
            queue.after_commit("notify_referral_stalled", referral.pk)
            stalls += 1
    return reminders, stalls


def remind_partner(referral_id: int) -> bool:
    """Send the partner its one reminder, with a fresh link, if it still has not
    answered. Claimed before the mail leaves, as the desk's notices are
    (notifications.released_on_failure): a second run sends nothing."""
    due = Referral.objects.awaiting_partner().filter(
        pk=referral_id, partner_reminded_at__isnull=True
    )
    referral = due.select_related("organisation").first()
    if referral is None or not referral.partner_overdue():
        return False
    if not due.update(partner_reminded_at=timezone.now()):
        return False  # another run claimed it meanwhile
    claimed = Referral.objects.filter(pk=referral_id)
    with notifications.released_on_failure(claimed, "partner_reminded_at"), transaction.atomic():
        mail_link(referral, template="partner_reminder")
    return True
