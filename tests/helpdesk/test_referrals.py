from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from helpdesk import referrals
from helpdesk.models import Referral, ReferralEvent
from helpdesk.referrals import ReferralError
from resources.models import Organisation
from tests.helpdesk.test_desk import CANARY, new_case, trained

S = Referral.Status


@pytest.fixture
def referral(volunteer, db):
    trained(volunteer)
    organisation = Organisation.objects.create(
        slug="org", name="Org", website="https://org.example", verified_on=timezone.localdate()
    )
    case = new_case(volunteer=volunteer)
    return referrals.draft(
        case=case, organisation=organisation, by=volunteer, subject="Help", body=f"Body {CANARY}"
    )


def test_no_sending_without_consent(referral, volunteer):
    with pytest.raises(ReferralError, match="consent"):
        referrals.advance(referral=referral, to=S.SENT, by=volunteer)
    referrals.record_consent(referral=referral, by=volunteer)
    referral = referrals.advance(referral=referral, to=S.SENT, by=volunteer)
    assert referral.status == S.SENT and referral.sent_at
    referral.case.refresh_from_db()
    assert referral.case.status == "referred"


def sent(referral, volunteer):
    referrals.record_consent(referral=referral, by=volunteer)
    return referrals.advance(referral=referral, to=S.SENT, by=volunteer)


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], S.ACCEPTED),  # drafted cannot be accepted
        ([S.SENT], S.COMPLETED),  # sent cannot complete without an answer
        ([S.SENT, S.ACKNOWLEDGED], S.SENT),  # no going back
        ([S.SENT, S.ACCEPTED, S.COMPLETED], S.DECLINED),  # finished is finished
    ],
)
def test_illegal_transitions_are_refused(referral, volunteer, path, illegal):
    referrals.record_consent(referral=referral, by=volunteer)
    for step in path:
        note = "done" if step == S.COMPLETED else ""
        referral = referrals.advance(referral=referral, to=step, by=volunteer, note=note)
    with pytest.raises(ReferralError):
        referrals.advance(referral=referral, to=illegal, by=volunteer, reason="other", note="x")
    referral.refresh_from_db()
    assert referral.status == (path[-1] if path else S.DRAFTED)


def test_no_success_without_an_outcome_note(referral, volunteer):
    referral = sent(referral, volunteer)
    referral = referrals.advance(referral=referral, to=S.ACCEPTED, by=volunteer)
    with pytest.raises(ReferralError, match="outcome"):
        referrals.advance(referral=referral, to=S.COMPLETED, by=volunteer, note="  ")
    referral = referrals.advance(referral=referral, to=S.COMPLETED, by=volunteer, note="Housed")
    assert referral.outcome_note == "Housed" and referral.outcome_at


def test_failure_needs_a_reason_and_a_note(referral, volunteer):
    referral = sent(referral, volunteer)
    with pytest.raises(ReferralError):
        referrals.advance(referral=referral, to=S.DECLINED, by=volunteer, note="full")
    with pytest.raises(ReferralError):
        referrals.advance(referral=referral, to=S.DECLINED, by=volunteer, reason="no_capacity")
    referral = referrals.advance(
        referral=referral, to=S.DECLINED, by=volunteer, reason="no_capacity", note="Full until May"
    )
    assert referral.failure_reason == "no_capacity"


def test_every_transition_is_timestamped_and_attributed(referral, volunteer):
    referral = sent(referral, volunteer)
    referrals.advance(referral=referral, to=S.ACKNOWLEDGED, by=volunteer)
    events = list(ReferralEvent.objects.filter(referral=referral).values_list("status", "by"))
    assert events == [
        (S.DRAFTED, volunteer.pk),
        (S.SENT, volunteer.pk),
        (S.ACKNOWLEDGED, volunteer.pk),
    ]
    referral.refresh_from_db()
    assert referral.first_answer_at and not referral.outcome_at


def test_a_passed_follow_up_reminds_the_volunteer_once(
    referral, volunteer, django_capture_on_commit_callbacks
):
    referral = sent(referral, volunteer)
    Referral.objects.filter(pk=referral.pk).update(
        follow_up_on=timezone.localdate() + timedelta(days=3)
    )
    assert referrals.remind_overdue_follow_ups() == 0
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        with django_capture_on_commit_callbacks(execute=True):
            assert referrals.remind_overdue_follow_ups() == 1
        assert referrals.remind_overdue_follow_ups() == 0
    reminders = [m for m in mail.outbox if "follow-up" in m.subject]
    assert len(reminders) == 1 and reminders[0].to == [volunteer.email]
    assert referral.case.reference in reminders[0].body
    assert CANARY not in reminders[0].body + reminders[0].subject


def test_retention_removes_referral_text_and_keeps_the_facts(referral, volunteer):
    referral = sent(referral, volunteer)
    referral.case.destroy_content(by_submitter=True)
    referral.refresh_from_db()
    assert referral.body == "" and referral.subject == ""
    assert referral.status == S.SENT and referral.sent_at and referral.organisation.slug == "org"


def test_a_volunteer_refers_from_a_template_and_closes_the_loop(
    volunteer_client, volunteer, library
):
    from django.urls import reverse

    from helpdesk.models import Message
    from resources.models import ReferralTemplate

    trained(volunteer)
    case = new_case(need="asylum-be", languages=("ar", "en"), volunteer=volunteer)
    template = ReferralTemplate.objects.get(slug="vwv-request-en")
    page = volunteer_client.get(reverse("case", args=[case.reference])).content.decode()
    assert f"?template={template.pk}" in page

    form = volunteer_client.get(
        reverse("referral_new", args=[case.reference]), {"template": template.pk}
    )
    body = form.context["form"].initial["body"]
    assert case.reference in body and "{" not in body  # placeholders filled in
    response = volunteer_client.post(
        reverse("referral_new", args=[case.reference]),
        {
            "template": template.pk,
            "organisation": template.organisation_id,
            "subject": "Edited subject",
            "body": body + "\nOne more line the volunteer added.",
            "follow_up_on": "",
            "consent": "on",
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get(case=case)
    assert referral.body.endswith("One more line the volunteer added.")
    assert referral.consent_at and referral.template == template

    update = reverse("referral_update", args=[case.reference, referral.pk])
    volunteer_client.post(update, {"action": "advance", "to": "sent"})
    volunteer_client.post(update, {"action": "tell"})
    volunteer_client.post(update, {"action": "advance", "to": "accepted"})
    refused = volunteer_client.post(update, {"action": "advance", "to": "completed"}, follow=True)
    assert "Describe the outcome" in refused.content.decode()
    volunteer_client.post(update, {"action": "advance", "to": "completed", "note": "Lawyer found"})
    referral.refresh_from_db()
    assert referral.status == "completed" and referral.outcome_note == "Lawyer found"
    news = Message.objects.filter(case=case, author="staff").last()
    assert news.body.startswith("بموافقتك")  # the news of sending, in Arabic
    assert template.organisation.name in news.body


def test_another_volunteer_cannot_touch_the_referral(client, referral):
    from django.urls import reverse

    from helpdesk.roles import Role
    from tests.conftest import make_staff, sign_in

    stranger = trained(make_staff("stranger@example.org", Role.VOLUNTEER))
    sign_in(client, stranger)
    url = reverse("referral_update", args=[referral.case.reference, referral.pk])
    assert client.post(url, {"action": "consent"}).status_code == 404
    referral.refresh_from_db()
    assert referral.consent_at is None


def test_choosing_a_template_shows_the_directory_and_marks_who_does_not_serve_the_person(
    volunteer_client, volunteer
):
    """The person is in Syria and speaks Arabic and French."""
    from django.urls import reverse

    from tests.helpdesk.test_partners import add_partner, held_case
    from tests.resources.conftest import add_template

    add_partner("fits", works_in=("ar", "fr"), answer_days=3)
    add_partner("not-in-syria", countries=["TR", "LB"], works_in=("ar",))
    add_partner("english-only", works_in=("en",), answer_days=None)
    for slug in ("fits", "not-in-syria", "english-only"):
        add_template(f"{slug}-request-en", slug)
    case = held_case(trained(volunteer))

    page = volunteer_client.get(reverse("case", args=[case.reference])).content.decode()
    entries = page[page.index("Start a referral from a template") :]
    fits = entries[entries.index(">Fits<") : entries.index(">Not In Syria<")]
    assert "answers in Arabic, French" in " ".join(fits.split())
    assert "usually within 3 days" in fits and "takes referrals through Haven" in fits
    assert "does not cover" not in fits and "speaks none" not in fits
    elsewhere = entries[entries.index(">Not In Syria<") :]
    assert "does not cover Syria" in elsewhere
    assert "covers Lebanon, Türkiye" in " ".join(elsewhere.split())
    english = entries[entries.index(">English Only<") : entries.index(">Not In Syria<")]
    assert "speaks none of the person's languages" in english
    assert "time to answer not known" in english
    # Those that do not cover the person's country come last.
    assert entries.index(">Not In Syria<") > entries.index(">English Only<")


def test_the_message_says_the_person_agreed_only_once_the_volunteer_says_they_did(
    volunteer_client, volunteer, library
):
    from django.urls import reverse

    from resources.models import ReferralTemplate

    trained(volunteer)
    case = new_case(need="asylum-be", languages=("en",), volunteer=volunteer)
    template = ReferralTemplate.objects.get(slug="vwv-request-en")
    url = reverse("referral_new", args=[case.reference])
    agreed = "They have agreed that we contact you."

    first = volunteer_client.get(url, {"template": template.pk}).content.decode()
    assert "Has the person agreed that we contact" in first and 'name="body"' not in first
    not_yet = volunteer_client.get(url, {"template": template.pk, "consent": "no"})
    body = not_yet.context["form"].initial["body"]
    assert agreed not in body and "  " not in body
    assert not not_yet.context["form"].initial["consent"]
    yes = volunteer_client.get(url, {"template": template.pk, "consent": "yes"})
    claimed = yes.context["form"].initial["body"]
    assert agreed in claimed and yes.context["form"].initial["consent"]

    fields = {"template": template.pk, "organisation": template.organisation_id,
              "subject": "S", "body": claimed, "follow_up_on": ""}  # fmt: skip
    refused = volunteer_client.post(url, fields)
    assert refused.status_code == 400 and "The message says the person agreed" in (
        refused.content.decode()
    )
    assert not Referral.objects.exists()
    assert volunteer_client.post(url, {**fields, "consent": "on"}).status_code == 302
    assert volunteer_client.post(url, {**fields, "body": body}).status_code == 302
    first_referral, draft = Referral.objects.order_by("pk")
    assert first_referral.consent_at and draft.consent_at is None


def test_consent_a_move_and_an_outcome_each_say_what_was_done(referral, volunteer_client):
    from django.urls import reverse

    update = reverse("referral_update", args=[referral.case.reference, referral.pk])

    def said(data) -> str:
        return volunteer_client.post(update, data, follow=True).content.decode()

    assert "consent is recorded" in said({"action": "consent"})
    assert "The referral is now “Sent”." in said({"action": "advance", "to": "sent"})
    assert "The referral is now “Acknowledged”." in said(
        {"action": "advance", "to": "acknowledged"}
    )
    assert "Outcome recorded: “Accepted”." in said({"action": "advance", "to": "accepted"})


def test_the_inbox_never_speaks_of_messages_about_a_referral_nobody_wrote(referral, volunteer):
    from django.template.loader import render_to_string

    referral = sent(referral, volunteer)
    referral.case.refresh_from_db()
    assert referral.case.status == "referred"
    status = render_to_string("intake/partials/status.html", {"case": referral.case})
    assert "messages below" not in status and "contacted an organisation" in status
