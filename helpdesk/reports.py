"""The coordinators' figures: what became of referrals, and how the desk is coping.

Plain functions over a period that return dataclasses for the report pages, the CSV and
the tests. Each function runs a fixed number of queries however many referrals or cases
the period holds.

Everything is aggregated in the database: counts with FILTER, weeks with date_trunc and,
on PostgreSQL, medians with percentile_cont, so a two-year report over a million cases
returns a few hundred rows instead of one per case. SQLite (the embedded default) has no
percentile_cont: there one query fetches the bare durations and Python takes the
medians. That path only has to be correct; both give the same figures."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncWeek
from django.utils import timezone

from helpdesk.models import Assignment, Case, Referral
from helpdesk.referrals import OPEN, OUTCOMES

S = Referral.Status
SUCCESSES = frozenset({S.ACCEPTED, S.COMPLETED})
# An organisation "stalls" when a referral sent this many days ago still has no answer,
# or when this share of its outcomes (out of at least MIN_OUTCOMES) is "no response".
STALL_DAYS = 14
NO_RESPONSE_SHARE = 0.3
MIN_OUTCOMES = 2


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of `start` to the end of `end`, both days included, in the
    desk's time zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def median(values: list[timedelta]) -> timedelta | None:
    return statistics.median(values) if values else None


def medians_in_sql() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def without_jit() -> Iterator[None]:
    """PostgreSQL's JIT judges a report's aggregation over a period of cases costly
    enough to compile, and spends longer compiling it than running it (480 ms of
    1.5 s for 90 days at a million cases): off for the report's transaction only."""
    if not medians_in_sql():
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def duration(end: str, start: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def in_days(duration: timedelta | None) -> float | None:
    return None if duration is None else duration.total_seconds() / 86400


def in_hours(duration: timedelta | None) -> float | None:
    return None if duration is None else duration.total_seconds() / 3600


def iso_week(moment: datetime | date) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


# Referral review ----------------------------------------------------------------------


@dataclass
class OrganisationFigures:
    """One organisation's referrals in the period (or all of them, for `overall`)."""

    name: str
    slug: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    overdue_follow_ups: int = 0
    unanswered_long: int = 0
    median_first_answer: timedelta | None = None
    median_outcome: timedelta | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def with_outcome(self) -> int:
        return sum(self.counts.get(status, 0) for status in OUTCOMES)

    @property
    def successes(self) -> int:
        return sum(self.counts.get(status, 0) for status in SUCCESSES)

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted or completed, out of those with an outcome; None before any."""
        return self.successes / self.with_outcome if self.with_outcome else None

    @property
    def no_response_share(self) -> float | None:
        return self.counts.get(S.NO_RESPONSE, 0) / self.with_outcome if self.with_outcome else None

    @property
    def stall_reasons(self) -> list[str]:
        reasons = []
        if self.unanswered_long:
            reasons.append(f"{self.unanswered_long} sent over {STALL_DAYS} days ago, no answer")
        share = self.no_response_share
        if share is not None and self.with_outcome >= MIN_OUTCOMES and share >= NO_RESPONSE_SHARE:
            reasons.append(f"{share:.0%} of outcomes are “no response”")
        return reasons

    @property
    def stalled(self) -> bool:
        return bool(self.stall_reasons)

    @property
    def median_first_answer_days(self) -> float | None:
        return in_days(self.median_first_answer)

    @property
    def median_outcome_days(self) -> float | None:
        return in_days(self.median_outcome)

    def status_counts(self) -> list[tuple[str, str, int]]:
        """(status, label, count) in the order of the state machine."""
        return [(value, label, self.counts.get(value, 0)) for value, label in S.choices]


@dataclass
class ReferralReview:
    start: date
    end: date
    organisations: list[OrganisationFigures]
    overall: OrganisationFigures

    @property
    def stalled(self) -> list[OrganisationFigures]:
        return [figures for figures in self.organisations if figures.stalled]


def referrals_in_period(
    *, start: date, end: date, organisation=None, need=None, country=None, language=None
) -> QuerySet[Referral]:
    """Referrals created in the period, narrowed by organisation, the case's need and
    country, and the person's preferred (first) language. The drill-down uses it too,
    so a number and the cases behind it always agree."""
    since, until = period_bounds(start, end)
    referrals = Referral.objects.filter(created_at__gte=since, created_at__lt=until)
    if organisation is not None:
        referrals = referrals.filter(organisation=organisation)
    if need is not None:
        referrals = referrals.filter(case__need=need)
    if country:
        referrals = referrals.filter(case__country=country.upper())
    if language:
        referrals = referrals.filter(case__languages__0=getattr(language, "code", language))
    return referrals


def unanswered_since(now: datetime) -> Q:
    """Sent, still without any answer, for longer than STALL_DAYS."""
    return Q(status=S.SENT, first_answer_at__isnull=True, sent_at__lt=now - timedelta(STALL_DAYS))


def overdue_follow_up(today: date) -> Q:
    return Q(status__in=OPEN, follow_up_on__lt=today)


def referral_review(
    *, start: date, end: date, organisation=None, need=None, country=None, language=None
) -> ReferralReview:
    with without_jit():
        return _referral_review(
            start=start,
            end=end,
            organisation=organisation,
            need=need,
            country=country,
            language=language,
        )


def _referral_review(*, start: date, end: date, **filters) -> ReferralReview:
    referrals = referrals_in_period(start=start, end=end, **filters)
    now, today = timezone.now(), timezone.localdate()
    if medians_in_sql():
        organisations, overall = review_in_sql(referrals, today=today, now=now)
        return ReferralReview(start=start, end=end, organisations=organisations, overall=overall)
    per_status = {value: Count("pk", filter=Q(status=value)) for value in S.values}
    rows = (
        referrals.values("organisation_id", "organisation__name", "organisation__slug")
        .annotate(
            **per_status,
            overdue=Count("pk", filter=overdue_follow_up(today)),
            unanswered=Count("pk", filter=unanswered_since(now)),
        )
        .order_by("organisation__name")
    )
    by_organisation = {
        row["organisation_id"]: OrganisationFigures(
            name=row["organisation__name"],
            slug=row["organisation__slug"],
            counts={value: row[value] for value in S.values},
            overdue_follow_ups=row["overdue"],
            unanswered_long=row["unanswered"],
        )
        for row in rows
    }
    overall = OrganisationFigures(name="All organisations")
    for figures in by_organisation.values():
        for value, count in figures.counts.items():
            overall.counts[value] = overall.counts.get(value, 0) + count
        overall.overdue_follow_ups += figures.overdue_follow_ups
        overall.unanswered_long += figures.unanswered_long
    medians_in_python(referrals, by_organisation, overall)
    return ReferralReview(
        start=start, end=end, organisations=list(by_organisation.values()), overall=overall
    )


# Per organisation and for all of them (the empty grouping set, which also gives the
# zeros of an empty period) in one pass over the period's referrals. The rules of
# "overdue" and "unanswered" stay Q objects, evaluated per referral in the inner query.
REVIEW_SQL = """
    SELECT org, org_name, org_slug, GROUPING(org, org_name, org_slug), {per_status},
        count(*) FILTER (WHERE overdue), count(*) FILTER (WHERE unanswered),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY to_answer),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY to_outcome)
    FROM ({referrals}) AS period
    GROUP BY GROUPING SETS ((org, org_name, org_slug), ())
    ORDER BY org_name
"""


def review_in_sql(
    referrals: QuerySet[Referral], *, today: date, now: datetime
) -> tuple[list[OrganisationFigures], OrganisationFigures]:
    flag = partial(ExpressionWrapper, output_field=BooleanField())
    rows = referrals.order_by().values(
        org=F("organisation_id"),
        org_name=F("organisation__name"),
        org_slug=F("organisation__slug"),
        state=F("status"),
        overdue=flag(overdue_follow_up(today)),
        unanswered=flag(unanswered_since(now)),
        to_answer=duration("first_answer_at", "sent_at"),
        to_outcome=duration("outcome_at", "sent_at"),
    )
    inner, params = rows.query.sql_with_params()
    per_status = ", ".join("count(*) FILTER (WHERE state = %s)" for _ in S.values)
    organisations, overall = [], OrganisationFigures(name="All organisations")
    with connection.cursor() as cursor:
        cursor.execute(
            REVIEW_SQL.format(per_status=per_status, referrals=inner), (*S.values, *params)
        )
        for _org, name, slug, everyone, *counts, overdue, unanswered, answer, outcome in cursor:
            figures = overall if everyone else OrganisationFigures(name=name, slug=slug)
            figures.counts = dict(zip(S.values, counts, strict=True))
            figures.overdue_follow_ups, figures.unanswered_long = overdue, unanswered
            figures.median_first_answer, figures.median_outcome = answer, outcome
            if not everyone:
                organisations.append(figures)
    return organisations, overall


def medians_in_python(
    referrals: QuerySet[Referral],
    by_organisation: dict[int, OrganisationFigures],
    overall: OrganisationFigures,
) -> None:
    """SQLite's way to the medians: every duration of the period, fetched bare."""
    durations = referrals.filter(sent_at__isnull=False).values_list(
        "organisation_id",
        duration("first_answer_at", "sent_at"),
        duration("outcome_at", "sent_at"),
    )
    to_answer, to_outcome = defaultdict(list), defaultdict(list)
    for organisation_id, answer, outcome in durations:
        if answer is not None:
            to_answer[organisation_id].append(answer)
            to_answer[None].append(answer)
        if outcome is not None:
            to_outcome[organisation_id].append(outcome)
            to_outcome[None].append(outcome)
    for organisation_id, figures in by_organisation.items():
        figures.median_first_answer = median(to_answer[organisation_id])
        figures.median_outcome = median(to_outcome[organisation_id])
    overall.median_first_answer = median(to_answer[None])
    overall.median_outcome = median(to_outcome[None])


def drill_down(
    *, status: str = "", start: date, end: date, organisation=None, **filters
) -> tuple[QuerySet[Case], int]:
    """The cases behind one number of the review, and how many referrals behind it
    belong to cases whose content is already gone (they cannot be opened).

    `status` is a referral status, "overdue" (follow-up passed) or "unanswered"."""
    referrals = referrals_in_period(start=start, end=end, organisation=organisation, **filters)
    if status == "overdue":
        referrals = referrals.filter(overdue_follow_up(timezone.localdate()))
    elif status == "unanswered":
        referrals = referrals.filter(unanswered_since(timezone.now()))
    elif status:
        referrals = referrals.filter(status=status)
    cases = Case.objects.filter(pk__in=referrals.values("case_id"))
    return cases.with_content(), cases.filter(content_destroyed_at__isnull=False).count()


# Desk health --------------------------------------------------------------------------


@dataclass
class WeekRow:
    week: str
    cases: int
    by_need: dict[str, int]
    by_language: dict[str, int]
    escalations: int = 0


@dataclass
class PoolWait:
    """How long cases of one first language and need waited for a volunteer."""

    language: str
    need: str
    cases: int
    still_waiting: int
    median_wait: timedelta | None
    longest_wait: timedelta | None

    @property
    def median_wait_hours(self) -> float | None:
        return in_hours(self.median_wait)

    @property
    def longest_wait_hours(self) -> float | None:
        return in_hours(self.longest_wait)


@dataclass
class DeskHealth:
    start: date
    end: date
    weeks: list[WeekRow]
    needs: list[str]
    languages: list[str]
    cases: int
    escalations: int
    median_to_assignment: timedelta | None
    median_to_first_response: timedelta | None
    pool_waits: list[PoolWait]

    def by_need(self) -> list[tuple[WeekRow, list[int]]]:
        """Each week with its counts in the order of `needs`, for a table."""
        return [(week, [week.by_need.get(need, 0) for need in self.needs]) for week in self.weeks]

    def by_language(self) -> list[tuple[WeekRow, list[int]]]:
        return [
            (week, [week.by_language.get(code, 0) for code in self.languages])
            for week in self.weeks
        ]

    @property
    def median_to_assignment_hours(self) -> float | None:
        return in_hours(self.median_to_assignment)

    @property
    def median_to_first_response_hours(self) -> float | None:
        return in_hours(self.median_to_first_response)


def iso_weeks(start: date, end: date) -> list[str]:
    """Every ISO week the period touches, so a quiet week shows as a zero, not a gap."""
    monday = start - timedelta(days=start.weekday())
    weeks = []
    while monday <= end:
        weeks.append(iso_week(monday))
        monday += timedelta(days=7)
    return weeks


def desk_health(*, start: date, end: date) -> DeskHealth:
    with without_jit():
        return _desk_health(start=start, end=end)


def _desk_health(*, start: date, end: date) -> DeskHealth:
    since, until = period_bounds(start, end)
    now = timezone.now()
    cases = Case.objects.filter(created_at__gte=since, created_at__lt=until).annotate(
        first_language=KeyTextTransform("0", "languages")
    )

    weeks = {week: WeekRow(week, 0, {}, {}) for week in iso_weeks(start, end)}
    needs, languages = set(), set()
    counted = (
        cases.annotate(week=TruncWeek("created_at"))
        .values("week", "need__name", "first_language")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in counted:
        week = weeks[iso_week(row["week"])]
        need, language = row["need__name"], row["first_language"] or "?"
        needs.add(need)
        languages.add(language)
        week.cases += row["n"]
        week.by_need[need] = week.by_need.get(need, 0) + row["n"]
        week.by_language[language] = week.by_language.get(language, 0) + row["n"]

    escalated = (
        Case.objects.filter(escalated_at__gte=since, escalated_at__lt=until)
        .annotate(week=TruncWeek("escalated_at"))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in escalated:
        weeks[iso_week(row["week"])].escalations += row["n"]

    first_assigned = (
        Assignment.objects.filter(case=OuterRef("pk")).order_by("assigned_at").values("assigned_at")
    )
    # One row per case, named for the aggregation below (never fetched as such on
    # PostgreSQL), unordered: the cases' default order would make PostgreSQL walk the
    # period backwards instead of reading it from the covering index.
    timings = cases.order_by().values(
        case_language=F("first_language"),
        case_need=F("need__name"),
        created=F("created_at"),
        assigned=Subquery(first_assigned[:1]),
        responded=F("first_response_at"),
        closed=F("closed_at"),
    )
    if medians_in_sql():
        pool_waits, to_assignment, to_response = timings_in_sql(timings, now)
    else:
        pool_waits, to_assignment, to_response = timings_in_python(timings, now)
    pool_waits.sort(
        key=lambda wait: (-wait.median_wait, -wait.still_waiting, wait.language, wait.need)
    )
    week_rows = list(weeks.values())
    return DeskHealth(
        start=start,
        end=end,
        weeks=week_rows,
        needs=sorted(needs),
        languages=sorted(languages),
        cases=sum(week.cases for week in week_rows),
        escalations=sum(week.escalations for week in week_rows),
        median_to_assignment=to_assignment,
        median_to_first_response=to_response,
        pool_waits=pool_waits,
    )


# A case waited for a volunteer until its first assignment; if it was closed before
# anyone took it (deleted, duplicate), until then; otherwise it is still waiting.
TIMINGS_SQL = """
    SELECT case_language, case_need, GROUPING(case_language, case_need),
        count(*),
        count(*) FILTER (WHERE assigned IS NULL AND closed IS NULL),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY COALESCE(assigned, closed, %s) - created),
        max(COALESCE(assigned, closed, %s) - created),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY assigned - created),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY responded - created)
    FROM ({cases}) AS timings
    GROUP BY GROUPING SETS ((case_language, case_need), ())
"""


def timings_in_sql(
    timings: QuerySet, now: datetime
) -> tuple[list[PoolWait], timedelta | None, timedelta | None]:
    """The waits per first language and need, and the desk's medians, in one pass over
    the period's cases (GROUPING SETS, which the ORM cannot say)."""
    cases, params = timings.query.sql_with_params()
    pool_waits, to_assignment, to_response = [], None, None
    with connection.cursor() as cursor:
        cursor.execute(TIMINGS_SQL.format(cases=cases), (now, now, *params))
        for language, need, everyone, count, waiting, wait, longest, assigned, answered in cursor:
            if everyone:
                to_assignment, to_response = assigned, answered
            else:
                pool_waits.append(PoolWait(language or "?", need, count, waiting, wait, longest))
    return pool_waits, to_assignment, to_response


def timings_in_python(
    timings: QuerySet, now: datetime
) -> tuple[list[PoolWait], timedelta | None, timedelta | None]:
    """SQLite's way: every case's timestamps, fetched bare."""
    to_assignment, to_response = [], []
    waits: dict[tuple[str, str], list[timedelta]] = defaultdict(list)
    still_waiting: dict[tuple[str, str], int] = defaultdict(int)
    for row in timings:
        created, assigned, closed = row["created"], row["assigned"], row["closed"]
        key = (row["case_language"] or "?", row["case_need"])
        if assigned is not None:
            to_assignment.append(assigned - created)
            waits[key].append(assigned - created)
        elif closed is not None:
            waits[key].append(closed - created)
        else:
            waits[key].append(now - created)
            still_waiting[key] += 1
        if row["responded"] is not None:
            to_response.append(row["responded"] - created)
    pool_waits = [
        PoolWait(
            language=language,
            need=need,
            cases=len(durations),
            still_waiting=still_waiting[(language, need)],
            median_wait=median(durations),
            longest_wait=max(durations),
        )
        for (language, need), durations in waits.items()
    ]
    return pool_waits, median(to_assignment), median(to_response)
