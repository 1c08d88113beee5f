"""What a case allows, in every state, asked of one place (Case.refusal); the server
refuses what the page hides, and writes nothing when it does; the pool is one query
for everyone who looks at it; a hand-over that routing would not make needs a reason."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from helpdesk import access, pool
from helpdesk.models import (
    AccessLogEntry,
    Assignment,
    Case,
    CaseRefused,
    Message,
    Note,
    Referral,
    ReferralEvent,
)
from helpdesk.roles import Role
from resources.models import Organisation
from tests.conftest import make_staff, sign_in
from tests.helpdesk.test_desk import away, new_case, trained

A = AccessLogEntry.Action
ACTIONS = [A.CLAIM, A.REPLY, A.NOTE, A.SHARE, A.STATUS, A.REFERRAL, A.ASSIGN, A.RELEASE, A.REOPEN,
           A.REVOKE]  # fmt: skip

# (state, who) → the actions allowed; everything else is refused. "holder" holds the
# case, "other" is another volunteer, "coordinator" any coordinator. Revoking a
# partner's link is always open to those who answer for the case (not in the pool:
# nobody holds it).
WORK = {A.REPLY, A.NOTE, A.SHARE, A.STATUS, A.REFERRAL, A.REVOKE}
TABLE = {
    ("pool", "holder"): {A.CLAIM},
    ("pool", "other"): {A.CLAIM},
    ("pool", "coordinator"): {A.CLAIM, A.ASSIGN, A.REVOKE},
    ("held", "holder"): WORK,
    ("held", "other"): set(),
    ("held", "coordinator"): WORK | {A.ASSIGN, A.RELEASE},
    ("closed", "holder"): {A.REOPEN, A.REVOKE},
    ("closed", "other"): set(),
    ("closed", "coordinator"): {A.REOPEN, A.REVOKE},
    ("destroyed", "holder"): set(),
    ("destroyed", "other"): set(),
    ("destroyed", "coordinator"): set(),
}
# A partner's answer (through its link, no staff member) is taken in every state but
# destroyed content: it cannot know the case was closed (helpdesk/referrals.py).
PARTNER = {"pool": True, "held": True, "closed": True, "destroyed": False}


@pytest.fixture
def people(db):
    return {
        "holder": trained(make_staff("holder@example.org", Role.VOLUNTEER)),
        "other": trained(make_staff("other@example.org", Role.VOLUNTEER)),
        "coordinator": make_staff("coord@example.org", Role.COORDINATOR),
    }


def case_in(state: str, people) -> Case:
    if state == "pool":
        with away(people["holder"], people["other"]):
            return new_case()
    with away(people["other"]):
        case = new_case(volunteer=people["holder"])
    if state == "closed":
        case.close("resolved", by=people["holder"])
    if state == "destroyed":
        case.destroy_content(by_submitter=False)
    return case


@pytest.mark.parametrize("state", ["pool", "held", "closed", "destroyed"])
@pytest.mark.parametrize("who", ["holder", "other", "coordinator"])
def test_the_state_table(people, state, who):
    case = case_in(state, people)
    for action in ACTIONS:
        refusal = case.refusal(action, people[who])
        assert (refusal is None) == (action in TABLE[state, who]), (state, who, action)
        if refusal is not None:
            assert refusal.status in (403, 409) and str(refusal)


@pytest.mark.parametrize("state", ["pool", "held", "closed", "destroyed"])
def test_a_partners_answer_is_taken_in_every_state_but_destroyed(people, state):
    case = case_in(state, people)
    assert (case.refusal(A.PARTNER, None) is None) == PARTNER[state]


def test_a_state_refusal_comes_before_a_role_refusal(people):
    """A closed case says "closed" (409) to everyone, so nobody learns more by trying."""
    case = case_in("closed", people)
    assert case.refusal(A.REPLY, people["other"]).status == 409
    assert case.refusal(A.REOPEN, people["other"]).status == 403


def written() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Message, Note, Referral, ReferralEvent, Assignment, AccessLogEntry)
    }


def attempts(case: Case, people) -> list[tuple[str, dict]]:
    """Every form of the workspace, filled in as a person would."""
    organisation = Organisation.objects.get(slug="org")
    referral = case.referrals.get()
    return [
        (reverse("case_reply", args=[case.reference]), {"body": "Hello"}),
        (reverse("case_note", args=[case.reference]), {"body": "A note"}),
        (reverse("case_status", args=[case.reference]), {"status": "in_progress"}),
        (reverse("case_share", args=[case.reference]), {"guidance": "leave-overview"}),
        (reverse("case_claim", args=[case.reference]), {}),
        (
            reverse("case_reassign", args=[case.reference]),
            {"volunteer": people["other"].pk, "reason": "cover"},
        ),
        (
            reverse("referral_new", args=[case.reference]),
            {"organisation": organisation.pk, "subject": "S", "body": "B", "consent": "on"},
        ),
        (
            reverse("referral_update", args=[case.reference, referral.pk]),
            {"action": "consent"},
        ),
        (reverse("referral_update", args=[case.reference, referral.pk]), {"action": "tell"}),
    ]


@pytest.mark.parametrize("state", ["closed", "destroyed"])
def test_a_closed_or_destroyed_case_takes_nothing_new(client, people, library, state):
    from helpdesk import referrals

    Organisation.objects.create(slug="org", name="Org", verified_on="2026-12-01")
    case = case_in("held", people)
    referrals.draft(
        case=case,
        organisation=Organisation.objects.get(slug="org"),
        by=people["holder"],
        subject="S",
        body="B",
    )
    case_in_state = Case.objects.get(pk=case.pk)
    if state == "closed":
        case_in_state.close("resolved", by=people["holder"])
    else:
        case_in_state.destroy_content(by_submitter=False)
    sign_in(client, people["coordinator"])  # who may do the most

    for url, data in attempts(case, people):
        before = written()
        response = client.post(url, data)
        assert response.status_code == 409, url
        assert written() == before, url
        page = response.content.decode()
        message = "Reopen it first" if state == "closed" else "was destroyed"
        assert message in page, url
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.volunteer == people["holder"]


def test_a_closed_case_reopens_and_then_takes_answers(client, people):
    case = case_in("closed", people)
    sign_in(client, people["holder"])
    assert client.post(reverse("case_reopen", args=[case.reference])).status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS and case.closed_at is None
    response = client.post(reverse("case_reply", args=[case.reference]), {"body": "Back."})
    assert response.status_code == 302
    assert case.messages.get().body == "Back."
    assert AccessLogEntry.objects.filter(case=case, action=A.REOPEN).count() == 1


def test_the_pool_is_one_definition_for_everyone_who_looks(client, people, coordinator):
    """A volunteer's pool, the coordinators', the drain's and the shortage table all
    hold the same cases: open, with content, nobody's, looked at by routing."""
    volunteer = people["other"]
    with away(people["holder"], volunteer):
        waiting = {new_case(languages=("ar",)).reference for _ in range(3)}
    new_case(volunteer=people["holder"])  # held: in nobody's pool
    case_in("closed", people)
    case_in("destroyed", people)

    definition = set(Case.objects.pool().values_list("reference", flat=True))
    assert definition == waiting
    assert (
        set(Case.objects.pool().qualified_for(volunteer).values_list("reference", flat=True))
        == waiting
    )
    shortage = access.pool_shortage()
    assert sum(row["cases"] for row in shortage) == len(waiting)

    sign_in(client, volunteer)
    mine = client.get(reverse("pool")).content.decode()
    assert all(reference in mine for reference in waiting)
    client.logout()
    sign_in(client, coordinator)
    theirs = client.get(reverse("pool")).content.decode()
    assert all(reference in theirs for reference in waiting)
    held = Case.objects.exclude(reference__in=waiting).values_list("reference", flat=True)
    assert not any(reference in theirs for reference in held)

    # And the drain offers exactly these (each finds the volunteer back from a break).
    assert pool.drain_pool() == len(waiting)
    assert not Case.objects.pool().exists()


def test_a_hand_over_that_does_not_fit_names_what_is_missing_and_needs_a_reason(
    client, people, coordinator, django_capture_on_commit_callbacks
):
    persian = trained(
        make_staff("fa@example.org", Role.VOLUNTEER, first_name="Farid"),
        languages=("fa",),
        needs=("stay-safe",),
    )
    with away(people["other"]):
        case = new_case(need="leave", languages=("ar",), volunteer=people["holder"])
    sign_in(client, coordinator)
    url = reverse("case_reassign", args=[case.reference])

    refused = client.post(url, {"volunteer": persian.pk})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Farid does not fit this case" in page
    assert "speaks none of the person&#x27;s languages" in page
    assert "not trained for this need" in page
    case.refresh_from_db()
    assert case.volunteer == people["holder"]  # nothing changed
    with pytest.raises(CaseRefused):
        case.assign_to(persian, by=coordinator)  # the model refuses it too

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        handed = client.post(url, {"volunteer": persian.pk, "reason": "Speaks Arabic at home."})
    assert handed.status_code == 302
    case.refresh_from_db()
    assert case.volunteer == persian
    note = case.notes.get()
    assert "Speaks Arabic at home." in note.body and "Farid" in note.body
    assert note.author == coordinator
    assert AccessLogEntry.objects.filter(case=case, action=A.OVERRIDE, user=coordinator).exists()
    assert [m.to for m in mail.outbox] == [[persian.email]]

    # A hand-over that fits needs no reason and leaves no note.
    back = client.post(url, {"volunteer": people["other"].pk})
    assert back.status_code == 302
    case.refresh_from_db()
    assert case.volunteer == people["other"] and case.notes.count() == 1
