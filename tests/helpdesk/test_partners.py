"""Partners close the loop: a referral sent through Haven, the partner's page, each of
its answers against the state machine, its link's life (openings, expiry, revocation),
the reminder and the stall, and what never leaves the desk."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpdesk import cases, dispatch, notifications, partners, referrals
from helpdesk.models import (
    AccessLogEntry,
    Case,
    PartnerLink,
    PartnerLinkOpening,
    Referral,
    ReferralEvent,
)
from helpdesk.referrals import ReferralError
from helpdesk.roles import Role
from intake import receipts
from resources.models import Need
from tests.conftest import make_staff, sign_in
from tests.helpdesk.test_desk import trained
from tests.resources.conftest import add_organisation

S = Referral.Status
DESCRIPTION = "DESCRIPTION-only-the-desk-reads"
CONTACT = "+98 912 000 1234"
CODE_WORD = "CODEWORD-sunflower"
NOTE = "NOTE-internal-only"
REPLY = "REPLY-to-the-person"
REFERRAL_TEXT = "REFERRAL-TEXT the volunteer wrote for the organisation"


def add_partner(slug: str = "refuge-partner", *, works_in=("fr", "en"), **fields):
    """A made-up organisation that takes referrals through Haven, made by the loader."""
    values = {
        "takes_referrals": True,
        "referral_address": f"referrals@{slug}.example.org",
        "answer_days": 3,
        "secure_channels": "Signal",
        **fields,
    }
    return add_organisation(slug, works_in=works_in, **values)


def held_case(volunteer, *, receipt: str | None = None) -> Case:
    """A case with everything the person wrote, held by `volunteer`."""
    case = cases.submit_concern(
        receipt_hash=receipts.receipt_hash(receipt or receipts.new_receipt()),
        submission_key=receipts.new_receipt(),
        for_whom="self",
        need=Need.objects.get(slug="asylum-be"),
        country="SY",
        languages=["ar", "fr"],
        language="ar",
        urgent=False,
        description=f"Help me. {DESCRIPTION}",
        contact_channel="signal",
        contact_details=CONTACT,
        contact_safe_times="evenings",
        contact_code_word=CODE_WORD,
    )
    dispatch.route_case(case.pk)
    case.refresh_from_db()
    if case.volunteer_id != volunteer.pk:
        case.claim(by=volunteer)
    case.add_note(NOTE, by=volunteer)
    case.reply(REPLY, by=volunteer)
    return case


def drafted(volunteer, organisation=None, *, case=None, consent=True) -> Referral:
    case = case or held_case(trained(volunteer))
    referral = referrals.draft(
        case=case,
        organisation=organisation or add_partner(),
        by=volunteer,
        subject=f"Referral {case.reference}",
        body=REFERRAL_TEXT,
        language="fr",
    )
    if consent:
        referrals.record_consent(referral=referral, by=volunteer)
    return referral


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/partner/[^/\s]+/)", message.body).group(1)


def sent(volunteer, organisation=None, **kwargs) -> tuple[Referral, str]:
    """A referral sent through Haven, and the path of the partner's link."""
    referral = partners.send(referral=drafted(volunteer, organisation, **kwargs), by=volunteer)
    return referral, link_in(mail.outbox[-1])


@pytest.fixture
def partner_page(volunteer, django_capture_on_commit_callbacks):
    """A sent referral, its link, and a partner's browser that answers through it (each
    answer's notice runs, as after commit)."""
    referral, link = sent(volunteer)
    partner = Client()

    def answer(answer: str, **fields):
        data = {"answer": answer, **{f"{answer}-{k}": v for k, v in fields.items()}}
        with django_capture_on_commit_callbacks(execute=True):
            return partner.post(link, data)

    return referral, link, partner, answer


# Sending ------------------------------------------------------------------------------


def test_sending_mails_the_partner_a_link_in_its_language_and_nothing_of_the_case(
    volunteer, mailoutbox, settings
):
    settings.SITE_URL = "https://desk.example"
    referral, link = sent(volunteer)

    [message] = mailoutbox
    assert message.to == ["referrals@refuge-partner.example.org"]
    assert f"https://desk.example{link}" in message.body
    for secret in (DESCRIPTION, CONTACT, CODE_WORD, NOTE, REPLY, REFERRAL_TEXT):
        assert secret not in message.subject + message.body
    assert referral.case.reference not in message.subject + message.body
    referral.refresh_from_db()
    assert referral.status == S.SENT and referral.through_haven
    token = link.split("/")[2]
    assert len(token) >= 43  # 256 bits
    assert PartnerLink.objects.get().token_hash == PartnerLink.hash_token(token)
    assert not PartnerLink.objects.filter(token_hash=token).exists()


def test_the_email_follows_the_partners_language(volunteer, mailoutbox):
    referral = drafted(volunteer, add_partner(works_in=("fr",)))
    referral.language = ""
    referral.save(update_fields=["language"])
    assert referral.partner_language() == "fr"
    Referral.objects.filter(pk=referral.pk).update(language="nl")
    referral.refresh_from_db()
    assert referral.partner_language() == "fr"  # it does not work in Dutch
    english_too = add_partner("both", works_in=("fr", "en"))
    referral.organisation = english_too
    assert referral.partner_language() == "en"  # the desk's own language first


def test_no_sending_without_consent_nor_to_an_organisation_that_takes_none(volunteer, mailoutbox):
    with pytest.raises(ReferralError, match="consent"):
        partners.send(referral=drafted(volunteer, consent=False), by=volunteer)
    elsewhere = add_organisation("not-a-partner")
    with pytest.raises(ReferralError, match="does not take referrals"):
        partners.send(referral=drafted(volunteer, elsewhere), by=volunteer)
    assert not mailoutbox and not PartnerLink.objects.exists()
    assert not Referral.objects.filter(status=S.SENT).exists()


def test_when_the_mail_cannot_be_sent_nothing_changes(volunteer, monkeypatch):
    referral = drafted(volunteer)

    def smtp_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("helpdesk.invitations.send_mail", smtp_down)
    with pytest.raises(OSError):
        partners.send(referral=referral, by=volunteer)
    referral.refresh_from_db()
    assert referral.status == S.DRAFTED and not referral.through_haven
    assert not PartnerLink.objects.exists()


# The partner's page ----------------------------------------------------------------------


def test_the_partner_page_shows_the_referral_text_and_nothing_else_of_the_case(
    volunteer, client
):
    receipt = receipts.new_receipt()
    case = held_case(trained(volunteer), receipt=receipt)
    other_case = held_case(volunteer)
    other = drafted(volunteer, add_partner("other-partner"), case=other_case)
    referral, link = sent(volunteer, case=case)

    page = client.get(link).content.decode()
    assert REFERRAL_TEXT in page and f"Referral {case.reference}" in page
    for secret in (DESCRIPTION, CONTACT, CODE_WORD, NOTE, REPLY, "evenings", receipt,
                   receipts.display(receipt), volunteer.email, other_case.reference):  # fmt: skip
        assert secret not in page
    assert other.organisation.name not in page
    assert "Leave this site quickly" not in page  # a partner is not at risk


def test_contact_details_appear_only_when_the_volunteer_put_them_in_the_referral(
    volunteer, client
):
    referral = drafted(volunteer)
    referral.body = f"Reach her on Signal: {CONTACT}"
    referral.save(update_fields=["body"])
    partners.send(referral=referral, by=volunteer)
    assert CONTACT in client.get(link_in(mail.outbox[-1])).content.decode()


def test_nothing_the_volunteer_or_partner_wrote_is_taken_as_html(
    volunteer, volunteer_client, partner_page
):
    referral, link, partner, answer = partner_page
    referral.body = "<script>alert(1)</script><b>x</b>"
    referral.save(update_fields=["body"])
    page = partner.get(link).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    answer("message", note="<img src=x onerror=alert(2)>")
    desk = volunteer_client.get(reverse("case", args=[referral.case.reference])).content.decode()
    assert "<img src=x" not in desk and "&lt;img src=x onerror=alert(2)&gt;" in desk


def test_the_partner_page_opens_in_the_partners_language_until_it_chooses_another(
    volunteer, client
):
    referral, link = sent(volunteer, add_partner(works_in=("fr",)))
    response = client.get(link)
    assert response["Content-Language"] == "fr" and 'lang="fr"' in response.content.decode()
    client.post(reverse("set_language"), {"language": "ar", "next": link})
    response = client.get(link)
    assert response["Content-Language"] == "ar" and 'dir="rtl"' in response.content.decode()


@pytest.mark.parametrize("language", ["en", "nl", "fr", "ar", "fa", "ru", "es", "tr"])
def test_a_partner_answers_in_each_language_the_desk_offers(
    volunteer, language, django_capture_on_commit_callbacks
):
    referral, link = sent(volunteer)
    partner = Client()
    partner.post(reverse("set_language"), {"language": language, "next": link})
    page = partner.get(link)
    assert page.status_code == 200 and page["Content-Language"] == language
    with django_capture_on_commit_callbacks(execute=True):
        response = partner.post(link, {"answer": "accepted"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == S.ACCEPTED


def test_openings_are_recorded_with_their_time_only_and_keep_the_link_alive(volunteer, client):
    referral, link = sent(volunteer)
    created = PartnerLink.objects.get()
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        client.get(link, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Agent/1")
        client.get(link)
    opening = PartnerLinkOpening.objects.first()
    assert PartnerLinkOpening.objects.count() == 2
    assert {f.name for f in PartnerLinkOpening._meta.concrete_fields} == {"id", "link", "at"}
    assert opening.at > created.created_at + timedelta(days=19)
    link_row = PartnerLink.objects.get()
    assert link_row.expires_at > created.expires_at + timedelta(days=19)
    # 45 days after sending, but 25 after the last use: it still works.
    with time_machine.travel(timezone.now() + timedelta(days=45)):
        assert client.get(link).status_code == 200


# Each answer against the state machine ----------------------------------------------------

ANSWERS = {
    S.ACKNOWLEDGED: {},
    S.ACCEPTED: {"note": "We can see her next week."},
    S.DECLINED: {"reason": "no_capacity"},
    S.COMPLETED: {"note": "She has a lawyer now."},
}


@pytest.mark.parametrize(
    ("path", "answer", "allowed"),
    [
        ([], S.ACKNOWLEDGED, True),
        ([], S.ACCEPTED, True),
        ([], S.DECLINED, True),
        ([], S.COMPLETED, False),  # not before accepting
        ([S.ACKNOWLEDGED], S.ACKNOWLEDGED, False),
        ([S.ACKNOWLEDGED], S.ACCEPTED, True),
        ([S.ACKNOWLEDGED], S.DECLINED, True),
        ([S.ACCEPTED], S.COMPLETED, True),
        ([S.ACCEPTED], S.DECLINED, False),
        ([S.ACCEPTED, S.COMPLETED], S.ACCEPTED, False),
        ([S.DECLINED], S.ACCEPTED, False),
    ],
)
def test_each_partner_answer_goes_through_the_state_machine(
    volunteer, partner_page, mailoutbox, path, answer, allowed
):
    referral, link, partner, reply = partner_page
    for step in path:
        assert reply(step, **ANSWERS[step]).status_code == 302
    mailoutbox.clear()
    before = ReferralEvent.objects.count()

    response = reply(answer, **ANSWERS[answer])
    referral.refresh_from_db()
    if allowed:
        assert response.status_code == 302 and referral.status == answer
        event = referral.events.last()
        assert event.by_partner and event.by is None and event.status == answer
        [notice] = mailoutbox
        assert notice.to == [volunteer.email]
        assert referral.case.reference in notice.subject
        assert "We can see" not in notice.body and "lawyer" not in notice.body
    else:
        assert response.status_code == 400
        assert referral.status == (path[-1] if path else S.SENT)
        assert ReferralEvent.objects.count() == before and not mailoutbox


def test_the_page_offers_only_what_the_state_machine_allows(volunteer, partner_page):
    referral, link, partner, reply = partner_page
    page = partner.get(link).content.decode()
    for offered in ("acknowledged", "accepted", "declined"):
        assert f'name="answer" value="{offered}"' in page
    assert 'name="answer" value="completed"' not in page
    reply(S.ACCEPTED)
    page = partner.get(link).content.decode()
    assert 'value="completed"' in page and 'value="declined"' not in page


def test_a_partner_can_never_say_no_response_nor_sent(volunteer, partner_page):
    referral, link, partner, reply = partner_page
    for answer in (S.NO_RESPONSE, S.SENT, S.DRAFTED, "closed"):
        assert partner.post(link, {"answer": answer}).status_code == 400
    with pytest.raises(ReferralError):
        referrals.advance(referral=referral, to=S.NO_RESPONSE, by=None, partner=True,
                          reason="unreachable", note="x")  # fmt: skip
    referral.refresh_from_db()
    assert referral.status == S.SENT


def test_a_decline_needs_a_reason_and_other_needs_a_word(volunteer, partner_page):
    referral, link, partner, reply = partner_page
    assert reply(S.DECLINED).status_code == 400
    assert reply(S.DECLINED, reason="other").status_code == 400
    assert reply(S.DECLINED, reason="criteria").status_code == 400  # not on the partner's list
    assert reply(S.DECLINED, reason="other", note="Only adults").status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.failure_reason) == (S.DECLINED, "other")
    assert referral.outcome_note == "Only adults"


def test_completion_needs_an_outcome_note(volunteer, partner_page):
    referral, link, partner, reply = partner_page
    reply(S.ACCEPTED)
    assert reply(S.COMPLETED, note="  ").status_code == 400
    assert reply(S.COMPLETED, note="Housed safely.").status_code == 302
    referral.refresh_from_db()
    assert referral.status == S.COMPLETED and referral.outcome_note == "Housed safely."


def test_a_message_back_leaves_the_referral_as_it_is_and_reaches_the_case_page(
    volunteer, volunteer_client, partner_page, mailoutbox
):
    referral, link, partner, reply = partner_page
    mailoutbox.clear()
    assert reply("message", note="Could she come on Tuesday?").status_code == 302
    referral.refresh_from_db()
    assert referral.status == S.SENT
    event = referral.events.last()
    assert event.is_message and event.by_partner and event.note == "Could she come on Tuesday?"
    assert len(mailoutbox) == 1 and "Tuesday" not in mailoutbox[0].body
    page = volunteer_client.get(reverse("case", args=[referral.case.reference])).content.decode()
    assert "Could she come on Tuesday?" in page and "(the partner)" in page


def same_page(response) -> str:
    """The page but for its form token and its own address (the language switcher's)."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r"/partner/[^/]+/", "/partner/…/", page)


@pytest.mark.parametrize("how", ["expired", "revoked", "destroyed", "unknown"])
def test_an_unusable_link_records_nothing_and_answers_like_any_other(
    volunteer, partner_page, how
):
    referral, link, partner, _reply = partner_page
    unknown = Client().get("/partner/" + "x" * 43 + "/")
    if how == "expired":
        travel = time_machine.travel(timezone.now() + timedelta(days=31))
        travel.start()
    elif how == "revoked":
        partners.revoke(referral=referral, by=volunteer)
    elif how == "destroyed":
        referral.case.destroy_content(by_submitter=True)
    elif how == "unknown":
        link = "/partner/" + "y" * 43 + "/"
    before = (ReferralEvent.objects.count(), PartnerLinkOpening.objects.count())

    page = partner.get(link)
    answered = partner.post(link, {"answer": S.ACCEPTED})
    if how == "expired":
        travel.stop()
    assert page.status_code == answered.status_code == unknown.status_code == 404
    assert same_page(page) == same_page(unknown)  # whatever the cause
    assert (ReferralEvent.objects.count(), PartnerLinkOpening.objects.count()) == before
    referral.refresh_from_db()
    assert referral.status == S.SENT


def test_an_answer_on_a_closed_case_is_recorded_and_the_case_stays_closed(
    volunteer, partner_page, mailoutbox
):
    """The partner cannot know the case was closed; what it says is still news."""
    referral, link, partner, reply = partner_page
    referral.case.close("referred", by=volunteer)
    mailoutbox.clear()

    page = partner.get(link).content.decode()
    assert "closed" not in page.lower()
    assert reply(S.ACCEPTED, note="We will call her.").status_code == 302
    referral.refresh_from_db()
    referral.case.refresh_from_db()
    assert referral.status == S.ACCEPTED and referral.case.status == Case.Status.CLOSED
    assert [m.to for m in mailoutbox] == [[volunteer.email]]
    logged = referral.case.access_log.filter(action=AccessLogEntry.Action.PARTNER)
    assert logged.count() == 1 and logged.get().user is None


def test_the_volunteer_is_told_once_and_the_coordinators_when_nobody_holds_the_case(
    volunteer, coordinator, partner_page, mailoutbox
):
    referral, link, partner, reply = partner_page
    mailoutbox.clear()
    reply(S.ACKNOWLEDGED)
    event = referral.events.last()
    assert notifications.notify_partner_answer(event.pk) == 0  # a second run sends nothing
    assert [m.to for m in mailoutbox] == [[volunteer.email]]

    referral.case.release(by=coordinator)
    mailoutbox.clear()
    reply(S.ACCEPTED)
    assert [m.to for m in mailoutbox] == [[coordinator.email]]


# Revoking ---------------------------------------------------------------------------------


def test_the_volunteer_or_a_coordinator_revokes_even_on_a_closed_case(
    volunteer, coordinator, client
):
    referral, link = sent(volunteer)
    referral.case.close("referred", by=volunteer)
    sign_in(client, volunteer)
    update = reverse("referral_update", args=[referral.case.reference, referral.pk])
    response = client.post(update, {"action": "revoke"}, follow=True)
    assert "no longer works" in response.content.decode()
    assert Client().get(link).status_code == 404
    assert referral.case.access_log.filter(action=AccessLogEntry.Action.REVOKE).count() == 1

    again, second = sent(volunteer)
    coordinator_client = Client()
    sign_in(coordinator_client, coordinator)
    update = reverse("referral_update", args=[again.case.reference, again.pk])
    coordinator_client.post(update, {"action": "revoke"})
    assert Client().get(second).status_code == 404


def test_strangers_cannot_send_revoke_or_renew(volunteer, client, outsider):
    referral = drafted(volunteer)
    update = reverse("referral_update", args=[referral.case.reference, referral.pk])
    stranger = trained(make_staff("stranger@example.org", Role.VOLUNTEER))
    for who in (stranger, outsider):
        sign_in(client, who)
        for action in ("send", "revoke", "new_link"):
            assert client.post(update, {"action": action}).status_code in (403, 404)
    anonymous = Client()
    assert anonymous.post(update, {"action": "send"}).status_code == 302  # to the sign-in
    referral.refresh_from_db()
    assert referral.status == S.DRAFTED and not mail.outbox


def test_after_revoking_the_volunteer_can_mail_a_new_link(volunteer, volunteer_client):
    referral, old = sent(volunteer)
    update = reverse("referral_update", args=[referral.case.reference, referral.pk])
    volunteer_client.post(update, {"action": "revoke"})
    response = volunteer_client.post(update, {"action": "new_link"}, follow=True)
    assert "has been emailed a new link" in response.content.decode()
    new = link_in(mail.outbox[-1])
    assert new != old
    assert Client().get(old).status_code == 404 and Client().get(new).status_code == 200


# The desk's buttons ----------------------------------------------------------------------


def test_the_volunteer_sends_through_haven_from_the_case_page(volunteer, volunteer_client):
    referral = drafted(volunteer, consent=False)
    case_page = reverse("case", args=[referral.case.reference])
    page = volunteer_client.get(case_page).content.decode()
    assert "Send through Haven" in page and "Record the person's consent first." in page

    update = reverse("referral_update", args=[referral.case.reference, referral.pk])
    refused = volunteer_client.post(update, {"action": "send"}, follow=True).content.decode()
    assert "consent before sending" in refused and not mail.outbox
    consented = volunteer_client.post(update, {"action": "consent"}, follow=True)
    assert "consent is recorded" in consented.content.decode()
    done = volunteer_client.post(update, {"action": "send"}, follow=True).content.decode()
    assert "emailed a link" in done
    assert "Sent through Haven to referrals@refuge-partner.example.org" in done
    assert "Not opened yet." in done


# Reminders and stalls ------------------------------------------------------------------------


def test_one_reminder_past_the_stated_time_then_a_stall_past_twice_it(
    volunteer, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    referral, first = sent(volunteer)  # the partner says it answers within 3 days
    mailoutbox.clear()

    def chase(days: float) -> tuple[int, int]:
        later = time_machine.travel(timezone.now() + timedelta(days=days))
        with later, django_capture_on_commit_callbacks(execute=True):
            return partners.chase_partners()

    assert chase(2.9) == (0, 0)
    assert chase(3.1) == (1, 0)
    [reminder] = mailoutbox
    assert reminder.to == ["referrals@refuge-partner.example.org"]
    assert REFERRAL_TEXT not in reminder.body and referral.case.reference not in reminder.body
    second = link_in(reminder)
    assert second != first
    assert Client().get(first).status_code == Client().get(second).status_code == 200
    assert chase(4) == (0, 0)  # one reminder only

    referral.refresh_from_db()
    assert not referral.is_stalled()
    assert chase(6.1) == (0, 1)
    stalled = mailoutbox[1:]
    assert sorted(m.to[0] for m in stalled) == [coordinator.email, volunteer.email]
    assert all(REFERRAL_TEXT not in m.body for m in stalled)
    assert chase(7) == (0, 0)
    with time_machine.travel(timezone.now() + timedelta(days=7)):
        assert referral.is_stalled()
        page = Client()
        sign_in(page, volunteer)
        case_page = page.get(reverse("case", args=[referral.case.reference])).content.decode()
        assert "Stalled" in case_page


def test_an_answer_stops_the_chase(volunteer, partner_page, mailoutbox):
    referral, link, partner, reply = partner_page
    reply(S.ACKNOWLEDGED)
    mailoutbox.clear()
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        assert partners.chase_partners() == (0, 0)
        referral.refresh_from_db()
        assert not referral.is_stalled()
        assert partners.remind_partner(referral.pk) is False
    assert not mailoutbox


def test_a_partner_that_states_no_time_is_expected_within_the_desks_default(
    volunteer, settings
):
    settings.PARTNER_ANSWER_DAYS = 5
    referral, _ = sent(volunteer, add_partner(answer_days=None))
    assert referral.answer_days() == 5
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        assert partners.chase_partners() == (0, 0)
    with time_machine.travel(timezone.now() + timedelta(days=5.5)):
        assert partners.chase_partners() == (1, 0)


def test_the_chase_runs_from_beat_and_from_a_command(settings, db, capsys):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "helpdesk.tasks.chase_partners" in schedule
    call_command("chase_partners")
    assert "0 partner reminders and 0 stall notices queued" in capsys.readouterr().out


# The review's data ---------------------------------------------------------------------------


def test_the_review_can_tell_what_partners_confirmed_from_what_volunteers_recorded(
    volunteer, partner_page
):
    referral, link, partner, reply = partner_page
    reply(S.DECLINED, reason="not_covered")
    by_volunteer = drafted(volunteer, add_partner("second"))
    referrals.advance(referral=by_volunteer, to=S.SENT, by=volunteer)
    referrals.advance(referral=by_volunteer, to=S.ACCEPTED, by=volunteer)

    assert list(Referral.objects.answered_by_partner()) == [referral]
    declined = Referral.objects.get(pk=referral.pk)
    assert declined.failure_reason == Referral.FailureReason.NOT_COVERED
    first_answer = declined.events.filter(by_partner=True).earliest("at")
    assert declined.first_answer_at == first_answer.at
    assert declined.organisation.answer_days == 3
