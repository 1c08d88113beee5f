"""The coordinators' figures: what became of referrals, and how the desk is coping.

Plain functions over a period that return dataclasses for the report pages, the CSV and
the tests. They read the daily rollups (helpdesk/rollups.py) and never the case table:
a two-year report reads one row per day and combination of need, language, country
(and organisation) instead of one per case. Before reading, a report recomputes the
days changed since the last refresh, so its figures are current. Counts are exact;
medians come from the rollups' histograms, within rollups.MEDIAN_ERROR of the exact
ones, which the pages say. Only the drill-down to the cases behind a number reads the
cases themselves, with the same rules, so a count and its cases always agree."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy

from helpdesk import rollups
from helpdesk.models import Case, DailyRollup, Referral
from helpdesk.referrals import OPEN, OUTCOMES
from resources.models import Need, Organisation

S = Referral.Status
SUCCESSES = frozenset({S.ACCEPTED, S.COMPLETED})
# An organisation "stalls" when a referral sent more than this many days ago (counted
# in whole days) still has no answer, or when this share of its outcomes (out of at
# least MIN_OUTCOMES) is "no response".
STALL_DAYS = 14
NO_RESPONSE_SHARE = 0.3
MIN_OUTCOMES = 2
period_bounds = rollups.day_bounds


def median_error_percent() -> int:
    """The bound the pages state, rounded up: 5 %."""
    return -int(-rollups.MEDIAN_ERROR * 100 // 1)


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
    # Outcomes the partner recorded itself through its link (the rest: a volunteer's).
    partner_confirmed: int = 0
    # From sending to the partner's own first answer through its link.
    median_partner_answer: timedelta | None = None
    # The days within which the organisation says it answers (None: it said nothing).
    stated_answer_days: int | None = None
    declines: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def with_outcome(self) -> int:
        return sum(self.counts.get(status, 0) for status in OUTCOMES)

    @property
    def volunteer_recorded(self) -> int:
        """Outcomes only the desk's word stands for."""
        return self.with_outcome - self.partner_confirmed

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

    @property
    def median_partner_answer_days(self) -> float | None:
        return in_days(self.median_partner_answer)

    @property
    def answers_later_than_stated(self) -> bool:
        """The partner's real median first answer is later than it says it answers."""
        stated = self.stated_answer_days or settings.PARTNER_ANSWER_DAYS
        real = self.median_partner_answer_days
        return real is not None and real > stated

    def status_counts(self) -> list[tuple[str, str, int]]:
        """(status, label, count) in the order of the state machine."""
        return [(value, label, self.counts.get(value, 0)) for value, label in S.choices]

    def decline_counts(self) -> list[tuple[str, str, int]]:
        """(reason, label, count) of the reasons given, in the order of the list."""
        return [
            (value, label, self.declines[value])
            for value, label in Referral.FailureReason.choices
            if self.declines.get(value)
        ]


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
    country, and the person's preferred (first) language: the drill-down's cases, which
    the rollups count by the same keys."""
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


def stall_day(today: date) -> date:
    """A referral sent before this day, still unanswered, has waited too long."""
    return today - timedelta(days=STALL_DAYS)


def unanswered_since(today: date) -> Q:
    """Sent before stall_day(today), still without any answer."""
    since, _until = period_bounds(stall_day(today), stall_day(today))
    return Q(status=S.SENT, first_answer_at__isnull=True, sent_at__lt=since)


def overdue_follow_up(today: date) -> Q:
    return Q(status__in=OPEN, follow_up_on__lt=today)


def rollups_in_period(
    *, start: date, end: date, organisation=None, need=None, country=None, language=None
) -> QuerySet[DailyRollup]:
    """The referrals' rollup rows that add up to the period under the same filters as
    referrals_in_period: a filter's value, or the rows counting every value."""
    code = getattr(language, "code", language)
    rows = DailyRollup.objects.filter(
        rollups.in_period(start, end),
        organisation__isnull=False,
        language=code or rollups.ALL,
        country=country.upper() if country else rollups.ALL,
    )
    if organisation is not None:
        rows = rows.filter(organisation=organisation)
    return rows.filter(need=need) if need is not None else rows.filter(need__isnull=True)


class Tally:
    """One organisation's rollup rows added up."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.partner_confirmed = 0
        self.declines: dict[str, int] = {}
        self.follow_ups: dict[str, int] = {}
        self.unanswered: dict[str, int] = {}
        self.histograms: dict[str, dict] = defaultdict(dict)

    def add(self, statuses, partner_confirmed, declines, follow_ups, unanswered, histograms):
        rollups.merge(self.counts, statuses)
        self.partner_confirmed += partner_confirmed
        rollups.merge(self.declines, declines)
        rollups.merge(self.follow_ups, follow_ups)
        rollups.merge(self.unanswered, unanswered)
        for name, histogram in histograms.items():
            rollups.merge(self.histograms[name], histogram)

    def figures(self, name: str, *, today: date, slug: str = "", stated=None):
        overdue_before, stalled_before = today.isoformat(), stall_day(today).isoformat()
        return OrganisationFigures(
            name=name,
            slug=slug,
            counts={value: self.counts.get(value, 0) for value in S.values},
            overdue_follow_ups=sum(n for on, n in self.follow_ups.items() if on < overdue_before),
            unanswered_long=sum(n for on, n in self.unanswered.items() if on < stalled_before),
            median_first_answer=rollups.median(self.histograms["to_answer"]),
            median_outcome=rollups.median(self.histograms["to_outcome"]),
            partner_confirmed=self.partner_confirmed,
            median_partner_answer=rollups.median(self.histograms["to_partner_answer"]),
            stated_answer_days=stated,
            declines=dict(self.declines),
        )


def referral_review(
    *, start: date, end: date, organisation=None, need=None, country=None, language=None
) -> ReferralReview:
    rollups.refresh_changed(wait=False, most=rollups.live_days())
    rows = rollups_in_period(
        start=start,
        end=end,
        organisation=organisation,
        need=need,
        country=country,
        language=language,
    ).values_list(
        "organisation_id",
        "statuses",
        "partner_confirmed",
        "declines",
        "follow_ups",
        "unanswered",
        "histograms",
    )
    tallies: dict[int, Tally] = defaultdict(Tally)
    overall = Tally()
    for organisation_id, *values in rows:
        tallies[organisation_id].add(*values)
        overall.add(*values)
    today = timezone.localdate()
    named = Organisation.objects.filter(pk__in=tallies).values_list(
        "pk", "name", "slug", "answer_days"
    )
    organisations = [
        tallies[pk].figures(name, today=today, slug=slug, stated=stated)
        for pk, name, slug, stated in sorted(named, key=lambda row: row[1])
    ]
    return ReferralReview(
        start=start,
        end=end,
        organisations=organisations,
        overall=overall.figures(gettext_lazy("All organisations"), today=today),
    )


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
        referrals = referrals.filter(unanswered_since(timezone.localdate()))
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


class Waits:
    """One first language and need's waits for a volunteer, added up from rollups."""

    def __init__(self) -> None:
        self.cases = 0
        self.waited: dict = {}
        self.waiting: dict[str, int] = {}

    def pool_wait(self, language: str, need: str, now: datetime) -> PoolWait:
        """A case still waiting has waited until now, reckoned from the minute it came
        in (so up to a minute more than it did); the longest wait is the longest of
        theirs, or the middle of the finished waits' highest bucket."""
        waits = dict(self.waited)
        longest = rollups.longest(self.waited)
        rollups.add_waits(waits, self.waiting, now)
        if self.waiting:
            oldest = min(int(minute) for minute in self.waiting)
            waited = timedelta(seconds=max(now.timestamp() - oldest * 60, 0))
            longest = max(longest or waited, waited)
        return PoolWait(
            language=language,
            need=need,
            cases=self.cases,
            still_waiting=sum(self.waiting.values()),
            median_wait=rollups.median(waits),
            longest_wait=longest,
        )


def desk_health(*, start: date, end: date) -> DeskHealth:
    rollups.refresh_changed(wait=False, most=rollups.live_days())
    now = timezone.now()
    need_names = dict(Need.objects.values_list("pk", "name"))
    weeks = {week: WeekRow(week, 0, {}, {}) for week in iso_weeks(start, end)}
    needs, languages = set(), set()
    cases = DailyRollup.objects.filter(organisation__isnull=True, country=rollups.ALL)
    # The weeks from the day rows' counts alone, added up by the database...
    counted = (
        cases.filter(span=rollups.DAY, day__gte=start, day__lte=end)
        .values_list(TruncWeek("day"), "need_id", "language")
        .annotate(Sum("cases"), Sum("escalations"))
        .order_by()
    )
    for monday, need_id, language, count, escalations in counted:
        week = weeks[iso_week(monday)]
        week.escalations += escalations
        if not count:
            continue
        need, language = need_names[need_id], language or "?"
        needs.add(need)
        languages.add(language)
        week.cases += count
        week.by_need[need] = week.by_need.get(need, 0) + count
        week.by_language[language] = week.by_language.get(language, 0) + count
    # ...the times from the months' rows and those of the days around them.
    waits: dict[tuple[str, str], Waits] = defaultdict(Waits)
    to_volunteer, to_first_answer = {}, {}
    timed = cases.filter(rollups.in_period(start, end), cases__gt=0).values_list(
        "need_id", "language", "cases", "waiting", "histograms"
    )
    for need_id, language, count, waiting, histograms in timed:
        group = waits[(language or "?", need_names[need_id])]
        group.cases += count
        rollups.merge(group.waited, histograms.get("waited", {}))
        rollups.merge(group.waiting, waiting)
        rollups.merge(to_volunteer, histograms.get("to_volunteer", {}))
        rollups.merge(to_first_answer, histograms.get("to_first_answer", {}))
    pool_waits = [group.pool_wait(*key, now) for key, group in waits.items()]
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
        median_to_assignment=rollups.median(to_volunteer),
        median_to_first_response=rollups.median(to_first_answer),
        pool_waits=pool_waits,
    )
