"""Daily rollups: the anonymous figures the reports read, one row per day × need ×
first language × country × organisation (models.DailyRollup), never the case table.

Each case and referral is also counted in rows with ALL in place of need, language or
country (so a report under any filters reads only its own rows), and every day's rows
add up into month rows (so a long period reads its whole months from them).

A day's rows are recomputed from the cases and referrals behind them, all at once
(deleted and inserted in one transaction), so doing it twice does no harm; its month is
then marked, and reports add that month up from its day rows (the same figures) rather
than from its month rows, until the beat makes the month rows again from the day rows
once the month has ended (`build_months`; where no beat runs, each report does).
Saving what the rollups read of a case or a referral marks its day
(models.RollupChange); a beat task every minute and every report, before it reads,
recompute the marked days (`refresh_changed`) and renew the `version` reports keep their
figures under. `rebuild` recomputes every day and month
(`manage.py rebuild_rollups`).

Counts are exact. Times (to a volunteer, to an answer, to an outcome) are kept as
histograms with buckets RATIO wide, so a median read from them is within MEDIAN_ERROR of
the exact one (and within half a minute below a minute). What depends on the moment a
report is read (follow-ups now overdue, referrals unanswered for too long, cases still
waiting) is kept by date, and reckoned when read."""

from __future__ import annotations

import json
import math
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from itertools import product

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, FloatField, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate
from django.utils import timezone

from helpdesk.models import (
    OPEN_REFERRAL,
    ROLLUP_ALL,
    Assignment,
    Case,
    DailyRollup,
    Referral,
    ReferralEvent,
    RollupChange,
)

S = Referral.Status
# Outcomes a partner records itself: its word, not the desk's (referrals.PARTNER_ANSWERS).
PARTNER_OUTCOMES = frozenset({S.ACCEPTED, S.DECLINED, S.COMPLETED})
RATIO = 1.1  # each bucket is 10 % wider than the one before
FLOOR_SECONDS = 60  # bucket 0 holds everything under a minute
MEDIAN_ERROR = math.sqrt(RATIO) - 1  # 4.9 %: a bucket's middle is this close to its ends
BATCH = 5_000
LOCK = 1_700_017  # the advisory lock of the rollups' writers (PostgreSQL)
VERSION_KEY = "rollups:version"
# The most changed days a report recomputes before it reads (~40 ms to 0.2 s each at a million
# cases); more are left to the beat task and `manage.py rebuild_rollups`.
LIVE_DAYS = 31


# Histograms -------------------------------------------------------------------------------


def bucket(seconds: float) -> int:
    """Bucket 0: under a minute; bucket i ≥ 1: [60·1.1^(i−1), 60·1.1^i) seconds."""
    if seconds < FLOOR_SECONDS:
        return 0
    return 1 + int(math.log(seconds / FLOOR_SECONDS) / math.log(RATIO))


def bucket_seconds(index: int) -> float:
    """A bucket's middle (geometric, so it is as close to either end)."""
    if index == 0:
        return FLOOR_SECONDS / 2
    return FLOOR_SECONDS * RATIO ** (index - 0.5)


def merge(into: dict, counts: dict) -> None:
    for key, count in counts.items():
        into[key] = into.get(key, 0) + count


def median(histogram: dict) -> timedelta | None:
    """The median of a histogram ({bucket: count}, buckets as ints or strings): the
    middle of the bucket holding the middle value (or the mean of the two middles)."""
    counts = sorted((int(index), count) for index, count in histogram.items() if count)
    total = sum(count for _index, count in counts)
    if not total:
        return None
    lower, upper = (total - 1) // 2, total // 2
    found, seen = [], 0
    for index, count in counts:
        while len(found) < 2 and (lower if not found else upper) < seen + count:
            found.append(index)
        seen += count
        if len(found) == 2:
            break
    return timedelta(seconds=(bucket_seconds(found[0]) + bucket_seconds(found[1])) / 2)


def add_waits(histogram: dict, waiting: dict, now: datetime) -> None:
    """Add the waits until `now` of cases still waiting ({minute they came in: count})
    to a histogram: walked from the shortest wait up, so each bucket's bound is worked
    out once, not each case's logarithm (a million-case desk has tens of thousands)."""
    index, upper, moment = 0, FLOOR_SECONDS, now.timestamp()
    for minute, count in sorted(((int(m), c) for m, c in waiting.items()), reverse=True):
        waited = max(moment - minute * 60, 0)
        while waited >= upper:
            index, upper = index + 1, FLOOR_SECONDS * RATIO ** (index + 1)
        key = str(index)
        histogram[key] = histogram.get(key, 0) + count


def longest(histogram: dict) -> timedelta | None:
    """The longest time of a histogram: the middle of its highest bucket."""
    top = max((int(index) for index, count in histogram.items() if count), default=None)
    return None if top is None else timedelta(seconds=bucket_seconds(top))


def as_json(value: dict) -> str:
    # Most of a row's maps are empty: "{}" without the encoder's call, a million times.
    return json.dumps(value) if value else "{}"


class Figures:
    """What one rollup row holds, to add up (a month row is the sum of its days'
    rows)."""

    COUNTS = ("cases", "escalations", "referrals", "partner_confirmed")
    MAPS = ("statuses", "declines", "follow_ups", "unanswered", "waiting")
    __slots__ = (*COUNTS, *MAPS, "histograms")

    def __init__(self) -> None:
        # Spelt out, as columns() is: a rebuild makes a million and a half of these.
        self.cases = self.escalations = self.referrals = self.partner_confirmed = 0
        self.statuses, self.declines, self.follow_ups = {}, {}, {}
        self.unanswered, self.waiting = {}, {}
        self.histograms: dict[str, dict] = {}

    def merge(self, other: Figures) -> None:
        """Add `other`'s figures to these (how day rows add up into their month's)."""
        for name in self.COUNTS:
            if value := getattr(other, name):
                setattr(self, name, getattr(self, name) + value)
        for name in self.MAPS:
            if counts := getattr(other, name):
                merge(getattr(self, name), counts)
        for name, counts in other.histograms.items():
            merge(self.histograms.setdefault(name, {}), counts)

    FIELDS = (*COUNTS, *MAPS, "histograms")

    def columns(self) -> tuple:
        """The values of FIELDS as COPY writes them (maps as JSON), spelt out: a rebuild
        writes a million and a half rows."""
        return (
            self.cases,
            self.escalations,
            self.referrals,
            self.partner_confirmed,
            as_json(self.statuses),
            as_json(self.declines),
            as_json(self.follow_ups),
            as_json(self.unanswered),
            as_json(self.waiting),
            as_json(self.histograms),
        )

    @classmethod
    def of(cls, values) -> Figures:
        """From the values of FIELDS, in that order."""
        figures = cls()
        for name, value in zip(cls.FIELDS, values, strict=True):
            setattr(figures, name, value)
        return figures

    def row(self, key: Key) -> DailyRollup:
        span, day, need_id, language, country, organisation_id = key
        return DailyRollup(
            span=span,
            day=day,
            need_id=need_id,
            language=language,
            country=country,
            organisation_id=organisation_id,
            **{name: getattr(self, name) for name in self.FIELDS},
        )


class Item:
    """What one case, escalation or referral adds to each of its rows: a few counts, map
    entries and times (a rebuild makes millions of these, so plain lists)."""

    __slots__ = ("counts", "entries", "times")

    def __init__(self, **counts: int) -> None:
        self.counts = list(counts.items())
        self.entries: list[tuple[str, str]] = []
        self.times: list[tuple[str, str]] = []

    def count(self, name: str, key: str) -> None:
        """One more under `key` in the map `name` (of Figures.MAPS)."""
        self.entries.append((name, key))

    def time(self, name: str, seconds: float) -> None:
        """One more in the histogram `name`, in the bucket of `seconds`."""
        self.times.append((name, str(bucket(max(seconds, 0)))))


# Days -------------------------------------------------------------------------------------


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of `start` to the end of `end`, both days included, in the
    desk's time zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) runs."""
    first = last = None
    for day in sorted(set(days)):
        if last is not None and day == last + timedelta(days=1):
            last = day
            continue
        if first is not None:
            yield first, last
        first = last = day
    if first is not None:
        yield first, last


def within(field: str, days: set[date] | None) -> Q:
    """`field` falls on one of `days` (None: on any day)."""
    if days is None:
        return Q()
    found = Q(pk__in=[])
    for first, last in runs(days):
        since, until = day_bounds(first, last)
        found |= Q(**{f"{field}__gte": since, f"{field}__lt": until})
    return found


# Computing the rows -------------------------------------------------------------------------

DAY, MONTH = DailyRollup.Span.DAY, DailyRollup.Span.MONTH
ALL = ROLLUP_ALL  # every language, or every country (every need: None)
# (span, day, need, language, country, organisation): organisation None for cases.
Key = tuple[str, date, int | None, str, str, int | None]
# The combinations each case and each referral is counted under: the exact one and
# those a report reads. Cases: with and without their country (desk health has no
# country filter). Referrals: every way to leave need, language or country out, so
# the review under any of its filters reads only the rows of that filter.
CASE_LEVELS = ((True, True, True), (True, True, False))
REFERRAL_LEVELS = tuple(product((True, False), repeat=3))


def keys(day: date, need_id, language, country, organisation_id, levels) -> list[Key]:
    return [
        (
            DAY,
            day,
            need_id if by_need else None,
            (language or "") if by_language else ALL,
            country if by_country else ALL,
            organisation_id,
        )
        for by_need, by_language, by_country in levels
    ]


def count_in(rows: dict[Key, Figures], where: list[Key], item: Item) -> None:
    """Add one case's, escalation's or referral's figures to the rows of `where`."""
    for at in where:
        row = rows.get(at)
        if row is None:
            row = rows[at] = Figures()
        for name, value in item.counts:
            setattr(row, name, getattr(row, name) + value)
        for name, key in item.entries:
            found = getattr(row, name)
            found[key] = found.get(key, 0) + 1
        histograms = row.histograms
        for name, key in item.times:
            histogram = histograms.get(name)
            if histogram is None:
                histogram = histograms[name] = {}
            histogram[key] = histogram.get(key, 0) + 1


def add_case(
    rows, *, day, created, need_id, language, country, status, assigned, responded, closed
):
    """One case, on the day it came in (`day`, in the desk's time zone; the moments are
    seconds since 1970, see Epoch). It waited for a volunteer until its first
    assignment; closed before anyone took it, until then; else it is still waiting."""
    item = Item(cases=1)
    item.count("statuses", status)
    if assigned is not None:
        item.time("to_volunteer", assigned - created)
    if responded is not None:
        item.time("to_first_answer", responded - created)
    waited_until = closed if assigned is None else assigned
    if waited_until is None:
        item.count("waiting", str(int(created) // 60))
    else:
        item.time("waited", waited_until - created)
    count_in(rows, keys(day, need_id, language, country, None, CASE_LEVELS), item)


def add_escalation(rows, *, day, need_id, language, country) -> None:
    """An escalation counts on the day it happened."""
    count_in(rows, keys(day, need_id, language, country, None, CASE_LEVELS), Item(escalations=1))


def add_referral(
    rows,
    *,
    day,
    organisation_id,
    need_id,
    language,
    country,
    status,
    sent,
    sent_day,
    first_answer,
    outcome,
    follow_up_on,
    failure_reason,
    partner_answer,
    partner_outcome,
) -> None:
    """One referral, on the day it was drafted (`day`), under its case's need, first
    language and country. Times (seconds since 1970) run from sending."""
    item = Item(referrals=1, partner_confirmed=int(status in PARTNER_OUTCOMES and partner_outcome))
    item.count("statuses", status)
    if status == S.DECLINED:
        item.count("declines", failure_reason or Referral.FailureReason.OTHER)
    if status in OPEN_REFERRAL and follow_up_on is not None:
        item.count("follow_ups", follow_up_on.isoformat())
    if sent is not None:
        if status == S.SENT and first_answer is None:
            item.count("unanswered", sent_day.isoformat())
        if first_answer is not None:
            item.time("to_answer", first_answer - sent)
        if outcome is not None:
            item.time("to_outcome", outcome - sent)
        if partner_answer is not None:
            item.time("to_partner_answer", partner_answer - sent)
    where = keys(day, need_id, language, country, organisation_id, REFERRAL_LEVELS)
    count_in(rows, where, item)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def add_up_months(day_rows: Iterable[tuple[Key, Figures]]) -> dict[Key, Figures]:
    """The month rows these day rows add up to."""
    months: dict[Key, Figures] = defaultdict(Figures)
    for key, figures in day_rows:
        months[month_key(key)].merge(figures)
    return months


def month_key(key: Key) -> Key:
    _span, day, *rest = key
    return (MONTH, day.replace(day=1), *rest)


KEY_FIELDS = ("span", "day", "need_id", "language", "country", "organisation_id")


def stored(rows: QuerySet[DailyRollup]) -> Iterator[tuple[int, Key, Figures]]:
    """Stored rows as (id, key, figures), without making a model instance of each."""
    for pk, *values in rows.values_list("pk", *KEY_FIELDS, *Figures.FIELDS).iterator(BATCH):
        yield pk, tuple(values[:6]), Figures.of(values[6:])


class Epoch(Func):
    """A moment as seconds since 1970 (a float), worked out by the database: the
    rollups need only days and durations, and reading millions of moments as datetimes
    costs more in Python than everything else a rebuild does."""

    template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)"
    output_field = FloatField()

    # Both databases answer with a float already: no float() per value.
    convert_value = staticmethod(Func._convert_value_noop)

    def as_sqlite(self, compiler, connection, **extra):
        # Django keeps SQLite's moments as UTC text, which julianday() reads to the
        # millisecond; rounded there, or its float noise puts 12:00:00 at 11:59:59.99999
        # (a minute early) and an exact minute under a minute.
        template = "ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0, 3)"
        return self.as_sql(compiler, connection, template=template, **extra)


class LocalDay(TruncDate):
    """The day of a moment in the desk's time zone (TruncDate), without the per-value
    check TruncDate makes for a datetime (the databases answer with a date, or SQLite
    with text its date converter still reads)."""

    convert_value = staticmethod(Func._convert_value_noop)


def compute(days: set[date] | None) -> dict[Key, Figures]:
    """The rows of these days (None: of every day), from the cases and referrals."""
    rows: dict[Key, Figures] = {}
    first_assigned = Assignment.objects.filter(case=OuterRef("pk")).order_by("assigned_at")
    cases = (
        Case.objects.filter(within("created_at", days))
        .order_by()
        .annotate(
            first_language=KeyTextTransform("0", "languages"),
            day=LocalDay("created_at"),
            created=Epoch("created_at"),
            assigned=Epoch(Subquery(first_assigned.values("assigned_at")[:1])),
            responded=Epoch("first_response_at"),
            closed=Epoch("closed_at"),
        )
        .values_list(
            "day",
            "created",
            "need_id",
            "first_language",
            "country",
            "status",
            "assigned",
            "responded",
            "closed",
        )
    )
    for values in cases.iterator(chunk_size=BATCH):
        day, created, need_id, language, country, status, assigned, responded, closed = values
        add_case(
            rows,
            day=day,
            created=created,
            need_id=need_id,
            language=language,
            country=country,
            status=status,
            assigned=assigned,
            responded=responded,
            closed=closed,
        )
    escalated = (
        Case.objects.filter(within("escalated_at", days), escalated_at__isnull=False)
        .order_by()
        .annotate(first_language=KeyTextTransform("0", "languages"), day=LocalDay("escalated_at"))
        .values_list("day", "need_id", "first_language", "country")
    )
    for day, need_id, language, country in escalated.iterator(chunk_size=BATCH):
        add_escalation(rows, day=day, need_id=need_id, language=language, country=country)

    by_partner = ReferralEvent.objects.filter(referral=OuterRef("pk"), by_partner=True)
    referrals = (
        Referral.objects.filter(within("created_at", days))
        .order_by()
        .annotate(
            first_language=KeyTextTransform("0", "case__languages"),
            day=LocalDay("created_at"),
            sent=Epoch("sent_at"),
            sent_day=LocalDay("sent_at"),
            answer=Epoch("first_answer_at"),
            outcome=Epoch("outcome_at"),
            partner_answer=Epoch(Subquery(by_partner.order_by("at").values("at")[:1])),
            partner_outcome=Exists(
                by_partner.filter(kind=ReferralEvent.Kind.STATUS, status__in=PARTNER_OUTCOMES)
            ),
        )
        .values_list(
            "day",
            "organisation_id",
            "case__need_id",
            "first_language",
            "case__country",
            "status",
            "sent",
            "sent_day",
            "answer",
            "outcome",
            "follow_up_on",
            "failure_reason",
            "partner_answer",
            "partner_outcome",
        )
    )
    for values in referrals.iterator(chunk_size=BATCH):
        (day, organisation_id, need_id, language, country, status, sent, sent_day) = values[:8]
        answer, outcome, follow_up_on, reason, partner_answer, partner_outcome = values[8:]
        add_referral(
            rows,
            day=day,
            organisation_id=organisation_id,
            need_id=need_id,
            language=language,
            country=country,
            status=status,
            sent=sent,
            sent_day=sent_day,
            first_answer=answer,
            outcome=outcome,
            follow_up_on=follow_up_on,
            failure_reason=reason,
            partner_answer=partner_answer,
            partner_outcome=partner_outcome,
        )
    return rows


# Writing them -------------------------------------------------------------------------------


def take_lock(*, wait: bool) -> bool:
    """One writer of rollups at a time (two would each delete a day and insert it
    twice). PostgreSQL: an advisory lock held to the end of the transaction; SQLite
    writes one transaction at a time anyway."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK])
        return cursor.fetchone()[0]


def remove(rows: QuerySet) -> None:
    """One DELETE. QuerySet.delete() would load every row first, to send the delete
    signals that resources/cache.py listens to for every model (41 s of a 48 s rebuild
    at 100,000 cases); nothing listens for these rows."""
    rows._raw_delete(rows.db)


def insert(rows: dict[Key, Figures]) -> None:
    """New rows; on PostgreSQL by COPY, which a rebuild's hundreds of thousands of rows
    need (making a model instance of each costs more than computing it)."""
    if connection.vendor != "postgresql":
        DailyRollup.objects.bulk_create(
            (figures.row(key) for key, figures in rows.items()), batch_size=BATCH
        )
        return
    names = (*Figures.COUNTS, *Figures.MAPS, "histograms")
    columns = ", ".join(
        ("span", "day", "need_id", "language", "country", "organisation_id", *names)
    )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {DailyRollup._meta.db_table} ({columns}) FROM STDIN"  # noqa: S608 - our names
        ) as copy,
    ):
        write = copy.write_row
        for key, figures in rows.items():
            write((*key, *figures.columns()))


def replace(days: set[date]) -> int:
    """Recompute these days' rows and put them in place of the old ones, and mark their
    months: reports add up a marked month's day rows, not its month rows, until the beat
    makes the month rows again (build_months). The old month rows stay until then, so a
    report that read the marks just before this commits still finds its months whole
    (as they were). Carrying the difference into the month rows instead cost a report
    ~0.5 s at a million cases (reading and rewriting thousands of month rows for one
    day's change). Inside the caller's transaction and lock. Returns how many day rows
    there are now."""
    new = compute(days)
    remove(DailyRollup.objects.filter(span=DAY, day__in=days))
    insert(new)
    months = {day.replace(day=1) for day in days}
    marked = set(
        RollupChange.objects.filter(whole_month=True, day__in=months).values_list("day", flat=True)
    )
    RollupChange.objects.bulk_create(
        RollupChange(day=month, whole_month=True) for month in sorted(months - marked)
    )
    return len(new)


def build_months(*, today: date | None = None) -> int:
    """Make the month rows of the marked months that have ended, from their day rows
    (the month under way keeps its mark: its next change would mark it again). Inside
    the caller's transaction and lock; returns how many months."""
    this_month = (today or timezone.localdate()).replace(day=1)
    marks = list(
        RollupChange.objects.filter(whole_month=True, day__lt=this_month).values_list("pk", "day")
    )
    months = {month for _pk, month in marks}
    for month in sorted(months):
        day_rows = DailyRollup.objects.filter(span=DAY, day__gte=month, day__lt=next_month(month))
        rows = add_up_months((key, figures) for _pk, key, figures in stored(day_rows))
        remove(DailyRollup.objects.filter(span=MONTH, day=month))
        insert(rows)
    remove(RollupChange.objects.filter(pk__in=[pk for pk, _month in marks]))
    return len(months)


def live_days() -> int | None:
    """How many changed days a report may recompute before it reads: LIVE_DAYS, or all
    of them where no beat runs (the embedded default, whose tasks run in-process)."""
    return None if settings.CELERY_TASK_ALWAYS_EAGER else LIVE_DAYS


def version() -> str:
    """A token that changes whenever rollups change (kept in the shared cache): what
    a report's figures are kept under (report_views.figures_for)."""
    token = cache.get(VERSION_KEY)
    if token is None:
        cache.add(VERSION_KEY, secrets.token_hex(8), None)
        token = cache.get(VERSION_KEY, "")
    return token


def renew_version() -> None:
    """At once, and again after commit (a report that read the old rows meanwhile is
    not kept under the new token)."""
    cache.set(VERSION_KEY, secrets.token_hex(8), None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, secrets.token_hex(8), None))


def refresh_changed(*, wait: bool = True, most: int | None = None) -> int:
    """Recompute the days marked as changed, and, when `most` is None (the beat task,
    `rebuild_rollups --changed`, and every report where no beat runs), make the month
    rows of the marked months that have ended; what the beat task runs every minute and
    every report before it reads (without waiting: when another process is at it, the
    report reads what is there; nor when more than `most` days are marked, as after an
    upgrade: that is the beat's or the command's work, not a request's). A change
    committed meanwhile keeps its own mark for the next refresh. Returns how many days
    were recomputed."""
    with transaction.atomic():
        if not take_lock(wait=wait):
            return 0
        changes = list(RollupChange.objects.filter(whole_month=False).values_list("pk", "day"))
        days = {day for _pk, day in changes}
        if days and (most is None or len(days) <= most):
            replace(days)
            marks = [pk for pk, _day in changes]
            for start in range(0, len(marks), 500):
                remove(RollupChange.objects.filter(pk__in=marks[start : start + 500]))
        else:
            days = set()
        # Month rows are the beat's work (or, without a beat, every report's).
        built = build_months() if most is None else 0
        if days or built:
            renew_version()
    return len(days)


def rebuild() -> int:
    """Recompute every day's and month's rows; returns how many rows there are now."""
    with transaction.atomic():
        take_lock(wait=True)
        remove(RollupChange.objects.all())
        remove(DailyRollup.objects.all())
        days = compute(None)
        months = add_up_months(days.items())
        insert(days)
        insert(months)
        renew_version()
        return len(days) + len(months)


def tidy() -> bool:
    """After a rebuild, on PostgreSQL and outside any transaction (VACUUM cannot run in
    one): the planner's statistics and the visibility map of the new rows, so desk health
    reads its weekly counts from its index alone (bench/results/rollups.md) from the
    first report on, not from ~9,000 table pages until autovacuum comes. Returns
    whether it ran."""
    if connection.vendor != "postgresql" or not connection.get_autocommit():
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {DailyRollup._meta.db_table}")
    return True


# Reading them ------------------------------------------------------------------------------


def in_period(start: date, end: date) -> Q:
    """The rows that add up to the days from `start` to `end`: the month rows of the
    whole months inside, the day rows of the days around them, and of the months whose
    month rows are not there (marked: the month under way, one changed since the beat
    last ran). The figures are the same either way; month rows are fewer to read."""
    first = start if start.day == 1 else next_month(start)
    months = []
    while True:
        following = next_month(first)
        if following - timedelta(days=1) > end:
            break
        months.append(first)
        first = following
    if not months:
        return Q(span=DAY, day__gte=start, day__lte=end)
    unbuilt = set(
        RollupChange.objects.filter(whole_month=True, day__in=months).values_list("day", flat=True)
    )
    after = next_month(months[-1])
    found = Q(span=DAY, day__gte=start, day__lt=months[0]) | Q(
        span=DAY, day__gte=after, day__lte=end
    )
    built = [month for month in months if month not in unbuilt]
    if built:
        found |= Q(span=MONTH, day__in=built)
    for month in sorted(unbuilt.intersection(months)):
        following = next_month(month)
        found |= Q(span=DAY, day__gte=month, day__lt=following)
    return found
