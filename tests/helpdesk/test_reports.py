"""The coordinators' reports: figures against fixtures whose answers are worked out by
hand below, a fixed number of queries however much data, who may see them, and bad
filters answered with a message."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from helpdesk import casework, escalation, referrals, reports
from helpdesk.models import Case, Referral
from resources.models import Language, Need, Organisation
from tests.helpdesk.test_desk import CANARY, new_case, trained

S = Referral.Status
# A Monday morning; every event of the fixtures is placed relative to it.
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def organisation(slug: str) -> Organisation:
    return Organisation.objects.create(
        slug=slug, name=slug.title(), website=f"https://{slug}.example", verified_on=T0.date()
    )


def referral(case, org, by, steps=(), *, follow_up_on=None) -> Referral:
    """Drafted at T0, then each (days after T0, status) step through the real state
    machine, time travelling to it."""
    with at(T0):
        made = referrals.draft(
            case=case, organisation=org, by=by, subject="s", body=CANARY, follow_up_on=follow_up_on
        )
        referrals.record_consent(referral=made, by=by)
    for days, status in steps:
        with at(T0 + days * DAY):
            failed = status in (S.DECLINED, S.NO_RESPONSE)
            made = referrals.advance(
                referral=made,
                to=status,
                by=by,
                reason="no_capacity" if failed else "",
                note="done" if failed or status == S.COMPLETED else "",
            )
    return made


@pytest.fixture
def fixture(volunteer):
    """Alpha: one drafted; sent day 1 → accepted day 3 → completed day 10; sent day 1 →
    acknowledged day 2 → declined day 5; sent day 1 → accepted day 5, follow up day 7.
    Beta (an asylum-be case in Persian, from Belgium): sent day 1, never answered,
    follow up day 10; sent day 1 → no response day 8."""
    trained(volunteer, languages=("ar", "fa", "en"))
    alpha, beta = organisation("alpha"), organisation("beta")
    with at(T0):
        arabic = new_case(need="leave", languages=("ar", "en"), volunteer=volunteer)
        persian = new_case(need="asylum-be", languages=("fa",), volunteer=volunteer)
    Case.objects.filter(pk=persian.pk).update(country="BE")
    follow_up = T0.date() + 7 * DAY
    made = {
        "drafted": referral(arabic, alpha, volunteer),
        "completed": referral(
            arabic, alpha, volunteer, [(1, S.SENT), (3, S.ACCEPTED), (10, S.COMPLETED)]
        ),
        "declined": referral(
            arabic, alpha, volunteer, [(1, S.SENT), (2, S.ACKNOWLEDGED), (5, S.DECLINED)]
        ),
        "accepted": referral(
            arabic, alpha, volunteer, [(1, S.SENT), (5, S.ACCEPTED)], follow_up_on=follow_up
        ),
        "silent": referral(
            persian, beta, volunteer, [(1, S.SENT)], follow_up_on=T0.date() + 10 * DAY
        ),
        "no_response": referral(persian, beta, volunteer, [(1, S.SENT), (8, S.NO_RESPONSE)]),
    }
    # Created before the period: never counted.
    with at(T0 - 30 * DAY):
        referrals.draft(case=arabic, organisation=beta, by=volunteer, subject="s", body="b")
    return {"alpha": alpha, "beta": beta, "arabic": arabic, "persian": persian, **made}


START, END = T0.date(), T0.date() + 20 * DAY


def review(**filters):
    with at(T0 + 20 * DAY):
        return reports.referral_review(start=START, end=END, **filters)


def test_review_figures_per_organisation(fixture):
    result = review()
    alpha, beta = result.organisations
    assert (alpha.name, beta.name) == ("Alpha", "Beta")

    assert alpha.counts == {
        **dict.fromkeys(S.values, 0),
        "drafted": 1,
        "accepted": 1,
        "declined": 1,
        "completed": 1,
    }
    assert alpha.total == 4 and alpha.with_outcome == 3
    assert alpha.acceptance_rate == pytest.approx(2 / 3)  # accepted + completed of 3
    # First answers 2, 1 and 4 days after sending; outcomes 9 (completed), 4 and 4.
    assert alpha.median_first_answer == 2 * DAY
    assert alpha.median_outcome == 4 * DAY
    assert alpha.overdue_follow_ups == 1  # follow-up day 7, still accepted on day 20
    assert not alpha.stalled

    assert beta.counts["sent"] == 1 and beta.counts["no_response"] == 1 and beta.total == 2
    assert beta.acceptance_rate == 0
    assert beta.median_first_answer == 7 * DAY and beta.median_outcome == 7 * DAY
    assert beta.overdue_follow_ups == 1
    # Sent on day 1 and silent on day 20: more than 14 days.
    assert beta.unanswered_long == 1 and beta.stalled
    assert result.stalled == [beta]


def test_review_overall_figures(fixture):
    overall = review().overall
    assert overall.total == 6 and overall.with_outcome == 4
    assert overall.acceptance_rate == pytest.approx(0.5)
    # Answers after 1, 2, 4, 7 days; outcomes after 4, 4, 7, 9 days.
    assert overall.median_first_answer == 3 * DAY
    assert overall.median_outcome == timedelta(days=5.5)
    assert overall.overdue_follow_ups == 2


def test_review_before_the_follow_ups_and_the_stall(fixture):
    with at(T0 + 6 * DAY):
        result = reports.referral_review(start=START, end=END)
    assert result.overall.overdue_follow_ups == 0
    assert result.stalled == []


def test_review_filters(fixture):
    assert [o.name for o in review(organisation=fixture["beta"]).organisations] == ["Beta"]
    by_need = review(need=Need.objects.get(slug="asylum-be"))
    assert [o.name for o in by_need.organisations] == ["Beta"]
    assert review(country="be").overall.total == 2
    assert review(language=Language.objects.get(code="ar")).overall.total == 4
    assert review(language="en").overall.total == 0  # the preferred language only
    empty = review(organisation=fixture["alpha"], country="BE")
    assert empty.organisations == [] and empty.overall.acceptance_rate is None


def test_a_no_response_share_stalls_an_organisation(volunteer):
    trained(volunteer)
    gamma = organisation("gamma")
    with at(T0):
        case = new_case(volunteer=volunteer)
    referral(case, gamma, volunteer, [(1, S.SENT), (2, S.NO_RESPONSE)])
    referral(case, gamma, volunteer, [(1, S.SENT), (2, S.ACCEPTED)])
    result = review()
    assert result.stalled[0].name == "Gamma"
    assert result.stalled[0].stall_reasons == ["50% of outcomes are “no response”"]


def test_drill_down_gives_the_cases_behind_a_number(fixture):
    def cases(**filters):
        with at(T0 + 20 * DAY):
            found, gone = reports.drill_down(start=START, end=END, **filters)
        return set(found.values_list("reference", flat=True)), gone

    arabic, persian = fixture["arabic"].reference, fixture["persian"].reference
    assert cases(organisation=fixture["alpha"], status="declined") == ({arabic}, 0)
    assert cases(organisation=fixture["beta"], status="unanswered") == ({persian}, 0)
    assert cases(status="overdue") == ({arabic, persian}, 0)
    assert cases(status="completed", country="BE") == (set(), 0)
    assert cases() == ({arabic, persian}, 0)
    from helpdesk import cases as case_actions

    case_actions.destroy_content(case=fixture["persian"], by_submitter=True)
    assert cases(organisation=fixture["beta"]) == (set(), 1)


# Desk health ---------------------------------------------------------------------------


@pytest.fixture
def desk(volunteer):
    """Week 10: an Arabic 'leave' case at T0, claimed after 2 hours, answered after 4,
    escalated on day 2; a Persian 'asylum-be' case on day 1 nobody takes. Week 11: an
    Arabic 'leave' case on day 7, claimed after 10 hours, never answered."""
    trained(volunteer, languages=("ar", "en"), needs=("leave",), capacity=5)
    with at(T0):
        first = new_case(need="leave", languages=("ar",))
    with at(T0 + timedelta(hours=2)):
        casework.claim(case=first, user=volunteer)
    with at(T0 + timedelta(hours=4)):
        casework.reply(case=first, user=volunteer, body="We are here.")
    with at(T0 + DAY):
        new_case(need="asylum-be", languages=("fa", "en"))
    with at(T0 + 7 * DAY):
        third = new_case(need="leave", languages=("ar",))
    with at(T0 + 7 * DAY + timedelta(hours=10)):
        casework.claim(case=third, user=volunteer)
    Case.objects.filter(pk=first.pk).update(escalated_at=T0 + 2 * DAY)


def health():
    with at(T0 + 10 * DAY):
        return reports.desk_health(start=START, end=START + 13 * DAY)


def test_desk_health_figures(desk):
    result = health()
    assert [w.week for w in result.weeks] == ["2025-W10", "2025-W11"]
    week10, week11 = result.weeks
    assert week10.cases == 2 and week11.cases == 1
    leave, asylum = (Need.objects.get(slug=slug).name for slug in ("leave", "asylum-be"))
    assert week10.by_need == {leave: 1, asylum: 1} and week11.by_need == {leave: 1}
    assert week10.by_language == {"ar": 1, "fa": 1} and week11.by_language == {"ar": 1}
    assert (week10.escalations, week11.escalations) == (1, 0)
    assert result.cases == 3 and result.escalations == 1
    # Assigned after 2 and 10 hours; only the first was answered, after 4 hours.
    assert result.median_to_assignment == timedelta(hours=6)
    assert result.median_to_first_response == timedelta(hours=4)
    # The Persian case has waited 9 days and still does: it comes first.
    persian, arabic = result.pool_waits
    assert (persian.language, persian.cases, persian.still_waiting) == ("fa", 1, 1)
    assert persian.median_wait == 9 * DAY
    assert (arabic.language, arabic.cases, arabic.still_waiting) == ("ar", 2, 0)
    assert arabic.median_wait == timedelta(hours=6) and arabic.longest_wait == timedelta(hours=10)


def test_escalations_counted_in_the_week_they_happen(desk):
    with at(T0 + 10 * DAY):
        # The two unanswered cases (the Persian one and week 11's), flagged on day 10.
        assert escalation.escalate_overdue() == 2
        result = reports.desk_health(start=START, end=START + 13 * DAY)
    assert [w.escalations for w in result.weeks] == [1, 2]


def test_empty_period(db):
    result = reports.desk_health(start=date(2024, 1, 1), end=date(2024, 1, 7))
    assert result.cases == 0 and result.median_to_assignment is None
    assert [w.week for w in result.weeks] == ["2024-W01"]
