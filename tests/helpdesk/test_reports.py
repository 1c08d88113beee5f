"""The coordinators' reports: figures against fixtures whose answers are worked out by
hand below, a fixed number of queries however much data, who may see them, and bad
filters answered with a message."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk import escalation, referrals, reports, rollups
from helpdesk.models import Case, Referral, RollupChange
from resources.models import Language, Need, Organisation
from tests.conftest import sign_in
from tests.helpdesk.test_desk import CANARY, new_case, trained

S = Referral.Status
# A Monday morning; every event of the fixtures is placed relative to it.
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def near(median: timedelta | None, exact: timedelta) -> bool:
    """Within the bound the pages state (rollups.MEDIAN_ERROR, or half a minute)."""
    return abs(median - exact) <= exact * rollups.MEDIAN_ERROR + timedelta(seconds=30)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def organisation(slug: str) -> Organisation:
    return Organisation.objects.create(
        slug=slug, name=slug.title(), website=f"https://{slug}.example", verified_on=T0.date()
    )


def referral(case, org, by, steps=(), *, follow_up_on=None, t0: datetime = T0) -> Referral:
    """Drafted at t0, then each (days after t0, status) step through the real state
    machine, time travelling to it."""
    with at(t0):
        made = referrals.draft(
            case=case, organisation=org, by=by, subject="s", body=CANARY, follow_up_on=follow_up_on
        )
        referrals.record_consent(referral=made, by=by)
    for days, status in steps:
        with at(t0 + days * DAY):
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
    RollupChange.objects.mark(persian.created_at)  # a bare update marks nothing itself
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
    assert near(alpha.median_first_answer, 2 * DAY)
    assert near(alpha.median_outcome, 4 * DAY)
    assert alpha.overdue_follow_ups == 1  # follow-up day 7, still accepted on day 20
    assert not alpha.stalled

    assert beta.counts["sent"] == 1 and beta.counts["no_response"] == 1 and beta.total == 2
    assert beta.acceptance_rate == 0
    assert near(beta.median_first_answer, 7 * DAY) and near(beta.median_outcome, 7 * DAY)
    assert beta.overdue_follow_ups == 1
    # Sent on day 1 and silent on day 20: more than 14 days.
    assert beta.unanswered_long == 1 and beta.stalled
    assert result.stalled == [beta]


def test_review_overall_figures(fixture):
    overall = review().overall
    assert overall.total == 6 and overall.with_outcome == 4
    assert overall.acceptance_rate == pytest.approx(0.5)
    # Answers after 1, 2, 4, 7 days; outcomes after 4, 4, 7, 9 days.
    assert near(overall.median_first_answer, 3 * DAY)
    assert near(overall.median_outcome, timedelta(days=5.5))
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
    fixture["persian"].destroy_content(by_submitter=True)
    assert cases(organisation=fixture["beta"]) == (set(), 1)


# Desk health ---------------------------------------------------------------------------


@pytest.fixture
def desk(volunteer):
    """Week 10: an Arabic 'leave' case at T0, claimed after 2 hours, answered after 4,
    escalated on day 2; a Persian 'asylum-be' case on day 1 nobody takes. Week 11: an
    Arabic 'leave' case on day 7, claimed after 10 hours, never answered."""
    # Trained after the cases came in: routing found nobody, and they waited in the pool.
    with at(T0):
        first = new_case(need="leave", languages=("ar",))
    trained(volunteer, languages=("ar", "en"), needs=("leave",), capacity=5)
    with at(T0 + timedelta(hours=2)):
        first.claim(by=volunteer)
    with at(T0 + timedelta(hours=4)):
        first.reply("We are here.", by=volunteer)
    with at(T0 + DAY):
        new_case(need="asylum-be", languages=("fa", "en"))
    volunteer.profile.needs.clear()  # out of training for a week: nobody takes the next
    with at(T0 + 7 * DAY):
        third = new_case(need="leave", languages=("ar",))
    with at(T0 + 7 * DAY + timedelta(hours=10)):
        third.claim(by=volunteer)
    Case.objects.filter(pk=first.pk).update(escalated_at=T0 + 2 * DAY)
    RollupChange.objects.mark(T0 + 2 * DAY)  # a bare update marks nothing itself


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
    assert near(result.median_to_assignment, timedelta(hours=6))
    assert near(result.median_to_first_response, timedelta(hours=4))
    # The Persian case has waited 9 days and still does: it comes first.
    persian, arabic = result.pool_waits
    assert (persian.language, persian.cases, persian.still_waiting) == ("fa", 1, 1)
    assert near(persian.median_wait, 9 * DAY)
    assert (arabic.language, arabic.cases, arabic.still_waiting) == ("ar", 2, 0)
    assert near(arabic.median_wait, timedelta(hours=6))
    assert near(arabic.longest_wait, timedelta(hours=10))


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


# The pages -----------------------------------------------------------------------------

REPORT_URLS = [
    reverse("report_referrals"),
    reverse("report_referrals_csv"),
    reverse("report_referral_cases"),
    reverse("report_health"),
]
PERIOD = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.mark.parametrize("url", REPORT_URLS)
def test_volunteers_are_refused_and_anonymous_sent_to_sign_in(client, volunteer, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    sign_in(client, volunteer)
    assert client.get(url).status_code == 403


def test_the_nav_links_reports_for_coordinators_only(coordinator_client, volunteer):
    assert reverse("report_referrals") in coordinator_client.get(reverse("desk")).content.decode()
    coordinator_client.logout()
    sign_in(coordinator_client, volunteer)
    assert (
        reverse("report_referrals") not in coordinator_client.get(reverse("desk")).content.decode()
    )


def many_referrals(n: int, volunteer, *, first: int = 0) -> None:
    """n referrals to n organisations on n cases, in every state the machine allows."""
    trained(volunteer, capacity=100)
    paths = [[], [(1, S.SENT)], [(1, S.SENT), (2, S.ACCEPTED)], [(1, S.SENT), (3, S.DECLINED)]]
    for index in range(first, first + n):
        with at(T0):
            case = new_case(volunteer=volunteer, languages=("ar",))
        referral(
            case,
            organisation(f"org{index:02d}"),
            volunteer,
            paths[index % len(paths)],
            follow_up_on=T0.date() + 2 * DAY,
        )


def query_count(client, url, params) -> int:
    cache.clear()  # the figures computed afresh, as the first coordinator of the day sees them
    with at(T0 + 20 * DAY), CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (reverse("report_referrals"), PERIOD),
        (reverse("report_referrals_csv"), PERIOD),
        (reverse("report_referral_cases"), {**PERIOD, "status": "sent"}),
        (reverse("report_health"), PERIOD),
    ],
)
def test_pages_run_a_fixed_number_of_queries(coordinator_client, volunteer, url, params):
    many_referrals(2, volunteer)
    query_count(coordinator_client, url, params)  # the library's names now in memory
    few = query_count(coordinator_client, url, params)
    many_referrals(28, volunteer, first=2)
    query_count(coordinator_client, url, params)  # new organisations: the library is read again
    assert query_count(coordinator_client, url, params) == few


def test_a_report_shows_a_change_at_once_and_reads_no_case(coordinator_client, desk):
    """No cache: the next request sees a new case (its day recomputed first), and a
    report reads rollups only, never the cases."""
    period = {"start": START, "end": START + 13 * DAY}
    with at(T0 + 10 * DAY):
        first = coordinator_client.get(reverse("report_health"), period)
        new_case(need="leave", languages=("ar",))
        with CaptureQueriesContext(connection) as queries:
            second = coordinator_client.get(reverse("report_health"), period)
        with CaptureQueriesContext(connection) as unchanged:
            coordinator_client.get(reverse("report_health"), period)
    assert first.context["health"].cases == 3 and second.context["health"].cases == 4
    assert any("helpdesk_case" in query["sql"] for query in queries.captured_queries)
    assert not any("helpdesk_case" in query["sql"] for query in unchanged.captured_queries)
    assert "within 5 %" in second.content.decode()


def test_figures_belong_to_their_filters(coordinator_client, fixture):
    with at(T0 + 20 * DAY):
        everything = coordinator_client.get(reverse("report_referrals"), PERIOD)
        beta = coordinator_client.get(
            reverse("report_referrals"), {**PERIOD, "organisation": "beta"}
        )
        csv_beta = coordinator_client.get(
            reverse("report_referrals_csv"), {**PERIOD, "organisation": "beta"}
        )
        longer = coordinator_client.get(reverse("report_referrals"), {"end": END})
    assert everything.context["review"].overall.total == 6
    assert beta.context["review"].overall.total == 2
    assert [row.split(",")[0] for row in csv_beta.content.decode().splitlines()[1:]] == [
        "Beta",
        "All organisations",
    ]
    assert longer.context["review"].overall.total == 7  # with the draft of 30 days before


def test_review_page_shows_the_figures_and_flags_the_stall(coordinator_client, fixture):
    with at(T0 + 20 * DAY):
        response = coordinator_client.get(reverse("report_referrals"), PERIOD)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Organisations whose answers stall" in page and "row--stalled" in page
    assert "67%" in page and "50%" in page  # Alpha's and everyone's acceptance rates
    assert page.count('class="chart chart--') == 2 and 'role="img"' in page
    assert " style=" not in page  # the CSP forbids inline styles
    assert CANARY not in page and fixture["arabic"].reference not in page
    drill = f"{reverse('report_referral_cases')}?start={START}&amp;end={END}&amp;organisation=beta"
    assert f"{drill}&amp;status=unanswered" in page


def test_review_defaults_to_the_last_90_days(coordinator_client, fixture):
    with at(T0 + 20 * DAY):
        response = coordinator_client.get(reverse("report_referrals"))
    assert response.context["review"].start == END - 89 * DAY
    # The six of the period and the draft of thirty days before it.
    assert response.context["review"].overall.total == 7


def test_csv_has_one_row_per_organisation_and_no_case_content(coordinator_client, fixture):
    with at(T0 + 20 * DAY):
        response = coordinator_client.get(reverse("report_referrals_csv"), PERIOD)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="haven-referrals-2025-03-03-2025-03-23.csv"'
    )
    rows = [line.split(",") for line in response.content.decode().splitlines()]
    assert rows[0] == [
        "organisation",
        *S.values,
        "total",
        "with_outcome",
        "acceptance_rate",
        "median_days_to_first_answer",
        "median_days_to_outcome",
        "follow_ups_overdue",
        "sent_over_14_days_without_answer",
        "stalled",
        "outcomes_confirmed_by_partner",
        "outcomes_recorded_by_volunteer",
        "median_days_to_partner_first_answer",
        "stated_answer_days",
        *(f"declined_{reason}" for reason in Referral.FailureReason.values),
    ]

    def medians(row):  # read from the rollups' histograms, within the stated bound
        return [timedelta(days=float(value)) for value in row[11:13]]

    # Counts are exact; no partner answered through a link here.
    no_capacity = Referral.FailureReason.values.index("no_capacity")
    declined = ["0"] * len(Referral.FailureReason.values)
    alpha_declined = declined.copy()
    alpha_declined[no_capacity] = "1"
    assert rows[1][:11] == ["Alpha", "1", "0", "0", "1", "1", "0", "1", "4", "3", "0.667"]
    assert rows[1][13:] == ["1", "0", "no", "0", "3", "", "", *alpha_declined]
    assert all(map(near, medians(rows[1]), [2 * DAY, 4 * DAY]))
    assert rows[2][:11] == ["Beta", "0", "1", "0", "0", "0", "1", "0", "2", "1", "0.000"]
    assert rows[2][13:] == ["1", "1", "yes", "0", "1", "", "", *declined]
    assert all(map(near, medians(rows[2]), [7 * DAY, 7 * DAY]))
    assert rows[3][0] == "All organisations" and rows[3][8:11] == ["6", "4", "0.500"]
    assert all(map(near, medians(rows[3]), [3 * DAY, timedelta(days=5.5)]))
    assert len(rows) == 4
    body = response.content.decode()
    assert CANARY not in body and fixture["arabic"].reference not in body


def test_csv_keeps_a_formula_from_running(coordinator_client, volunteer):
    trained(volunteer)
    org = organisation("formula")
    Organisation.objects.filter(pk=org.pk).update(name="=HYPERLINK(1)")
    with at(T0):
        referral(new_case(volunteer=volunteer), org, volunteer)
    response = coordinator_client.get(reverse("report_referrals_csv"), PERIOD)
    assert response.content.decode().splitlines()[1].startswith("'=HYPERLINK(1)")


def test_drill_down_lists_exactly_the_cases_behind_a_number(coordinator_client, fixture):
    def references(**params):
        with at(T0 + 20 * DAY):
            response = coordinator_client.get(
                reverse("report_referral_cases"), {**PERIOD, **params}
            )
        assert response.status_code == 200
        return {case.reference for case in response.context["page"].object_list}

    arabic, persian = fixture["arabic"].reference, fixture["persian"].reference
    assert references(organisation="alpha", status="completed") == {arabic}
    assert references(organisation="beta", status="no_response") == {persian}
    assert references(status="overdue") == {arabic, persian}
    assert references(language="fa") == {persian}
    assert references(need="leave", status="no_response") == set()
    with at(T0 + 20 * DAY):
        page = coordinator_client.get(
            reverse("report_referral_cases"), {**PERIOD, "organisation": "beta"}
        ).content.decode()
    assert f'href="{reverse("case", args=[persian])}"' in page
    assert f'href="{reverse("case", args=[arabic])}"' not in page


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2025-03-10", "end": "2025-03-01"}, "end", "before its start"),
        ({"start": "yesterday"}, "start", "Enter a valid date"),
        ({"end": "2025-02-30"}, "end", "Enter a valid date"),
        ({"start": "1900-01-01", "end": "2025-01-01"}, "start", "three years"),
        ({"organisation": "nobody"}, "organisation", "Select a valid choice"),
        ({"need": "x' OR 1=1"}, "need", "Select a valid choice"),
        ({"language": "xx"}, "language", "Select a valid choice"),
        ({"country": "S1"}, "country", "two-letter"),
        ({"country": "SYR"}, "country", "at most 2"),
    ],
)
def test_bad_filters_get_a_message_next_to_the_field(coordinator_client, params, field, message):
    response = coordinator_client.get(reverse("report_referrals"), params)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    csv_response = coordinator_client.get(reverse("report_referrals_csv"), params)
    assert csv_response.status_code == 400 and message in csv_response.content.decode()
    drill = coordinator_client.get(reverse("report_referral_cases"), params)
    assert drill.status_code == 400 and f'id="id_{field}_error"' in drill.content.decode()


@pytest.mark.parametrize("params", [{"status": "lost"}, {"page": "x"}, {"page": "999"}])
def test_bad_drill_down_input_is_not_a_500(coordinator_client, params):
    response = coordinator_client.get(reverse("report_referral_cases"), params)
    assert response.status_code in (200, 400)


def test_health_page(coordinator_client, desk):
    bad = coordinator_client.get(reverse("report_health"), {"start": "2025-13-01"})
    assert bad.status_code == 400 and 'id="id_start_error"' in bad.content.decode()
    with at(T0 + 10 * DAY):
        response = coordinator_client.get(
            reverse("report_health"), {"start": START, "end": START + 13 * DAY}
        )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="chart chart--') == 3 and " style=" not in page
    assert "2025-W10" in page and "fa · " in page and CANARY not in page
