"""Daily rollups: the anonymous figures the reports read, one row per day × need ×
first language × country × organisation (models.DailyRollup), never the case table.

A day's rows are recomputed from the cases and referrals behind them, all at once
(deleted and inserted in one transaction), so doing it twice does no harm. Saving what
the rollups read of a case or a referral marks its day (models.RollupChange); a beat task
every minute and every report, before it reads, recompute the marked days
(`refresh_changed`). `rebuild` recomputes every day (`manage.py rebuild_rollups`).

Counts are exact. Times (to a volunteer, to an answer, to an outcome) are kept as
histograms with buckets RATIO wide, so a median read from them is within MEDIAN_ERROR of
the exact one (and within half a minute below a minute). What depends on the moment a
report is read (follow-ups now overdue, referrals unanswered for too long, cases still
waiting) is kept by date, and reckoned when read."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from helpdesk.models import (
    OPEN_REFERRAL,
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


def add_time(row: DailyRollup, name: str, duration: timedelta) -> None:
    key = str(bucket(max(duration.total_seconds(), 0)))
    histogram = row.histograms.setdefault(name, {})
    histogram[key] = histogram.get(key, 0) + 1


def count(counts: dict, key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


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

Key = tuple[date, int, str, str, int | None]


def row_for(rows: dict[Key, DailyRollup], key: Key) -> DailyRollup:
    row = rows.get(key)
    if row is None:
        day, need_id, language, country, organisation_id = key
        row = rows[key] = DailyRollup(
            day=day,
            need_id=need_id,
            language=language,
            country=country,
            organisation_id=organisation_id,
            statuses={},
            declines={},
            follow_ups={},
            unanswered={},
            waiting={},
            histograms={},
        )
    return row


def add_case(rows, *, created, need_id, language, country, status, assigned, responded, closed):
    """One case, on the day it came in. It waited for a volunteer until its first
    assignment; closed before anyone took it, until then; else it is still waiting."""
    row = row_for(rows, (timezone.localdate(created), need_id, language or "", country, None))
    row.cases += 1
    count(row.statuses, status)
    if assigned is not None:
        add_time(row, "to_volunteer", assigned - created)
    if responded is not None:
        add_time(row, "to_first_answer", responded - created)
    waited_until = assigned or closed
    if waited_until is None:
        count(row.waiting, str(int(created.timestamp()) // 60))
    else:
        waited = max(int((waited_until - created).total_seconds()), 0)
        add_time(row, "waited", waited_until - created)
        row.longest_wait = max(row.longest_wait or 0, waited)


def add_escalation(rows, *, escalated, need_id, language, country) -> None:
    """An escalation counts on the day it happened."""
    key = (timezone.localdate(escalated), need_id, language or "", country, None)
    row_for(rows, key).escalations += 1


def add_referral(
    rows,
    *,
    created,
    organisation_id,
    need_id,
    language,
    country,
    status,
    sent,
    first_answer,
    outcome,
    follow_up_on,
    failure_reason,
    partner_answer,
    partner_outcome,
) -> None:
    """One referral, on the day it was drafted, under its case's need, first language
    and country. Times run from sending."""
    key = (timezone.localdate(created), need_id, language or "", country, organisation_id)
    row = row_for(rows, key)
    row.referrals += 1
    count(row.statuses, status)
    if status in PARTNER_OUTCOMES and partner_outcome:
        row.partner_confirmed += 1
    if status == S.DECLINED:
        count(row.declines, failure_reason or Referral.FailureReason.OTHER)
    if status in OPEN_REFERRAL and follow_up_on is not None:
        count(row.follow_ups, follow_up_on.isoformat())
    if sent is None:
        return
    if status == S.SENT and first_answer is None:
        count(row.unanswered, timezone.localdate(sent).isoformat())
    if first_answer is not None:
        add_time(row, "to_answer", first_answer - sent)
    if outcome is not None:
        add_time(row, "to_outcome", outcome - sent)
    if partner_answer is not None:
        add_time(row, "to_partner_answer", partner_answer - sent)


def compute(days: set[date] | None) -> list[DailyRollup]:
    """The rows of these days (None: of every day), from the cases and referrals."""
    rows: dict[Key, DailyRollup] = {}
    first_assigned = Assignment.objects.filter(case=OuterRef("pk")).order_by("assigned_at")
    cases = (
        Case.objects.filter(within("created_at", days))
        .order_by()
        .annotate(
            first_language=KeyTextTransform("0", "languages"),
            assigned=Subquery(first_assigned.values("assigned_at")[:1]),
        )
        .values_list(
            "created_at",
            "need_id",
            "first_language",
            "country",
            "status",
            "assigned",
            "first_response_at",
            "closed_at",
        )
    )
    for created, need_id, language, country, status, assigned, responded, closed in cases.iterator(
        chunk_size=BATCH
    ):
        add_case(
            rows,
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
        .annotate(first_language=KeyTextTransform("0", "languages"))
        .values_list("escalated_at", "need_id", "first_language", "country")
    )
    for moment, need_id, language, country in escalated.iterator(chunk_size=BATCH):
        add_escalation(rows, escalated=moment, need_id=need_id, language=language, country=country)

    by_partner = ReferralEvent.objects.filter(referral=OuterRef("pk"), by_partner=True)
    referrals = (
        Referral.objects.filter(within("created_at", days))
        .order_by()
        .annotate(
            first_language=KeyTextTransform("0", "case__languages"),
            partner_answer=Subquery(by_partner.order_by("at").values("at")[:1]),
            partner_outcome=Exists(
                by_partner.filter(kind=ReferralEvent.Kind.STATUS, status__in=PARTNER_OUTCOMES)
            ),
        )
        .values_list(
            "created_at",
            "organisation_id",
            "case__need_id",
            "first_language",
            "case__country",
            "status",
            "sent_at",
            "first_answer_at",
            "outcome_at",
            "follow_up_on",
            "failure_reason",
            "partner_answer",
            "partner_outcome",
        )
    )
    for values in referrals.iterator(chunk_size=BATCH):
        (created, organisation_id, need_id, language, country, status, sent, answer) = values[:8]
        outcome, follow_up_on, reason, partner_answer, partner_outcome = values[8:]
        add_referral(
            rows,
            created=created,
            organisation_id=organisation_id,
            need_id=need_id,
            language=language,
            country=country,
            status=status,
            sent=sent,
            first_answer=answer,
            outcome=outcome,
            follow_up_on=follow_up_on,
            failure_reason=reason,
            partner_answer=partner_answer,
            partner_outcome=partner_outcome,
        )
    return list(rows.values())


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


def replace(days: set[date] | None) -> int:
    """Recompute these days' rows (None: every day) and put them in place of the old
    ones; inside the caller's transaction and lock. Returns how many rows."""
    rows = compute(days)
    old = DailyRollup.objects.all()
    if days is not None:
        old = old.filter(day__in=days)
    old.delete()
    DailyRollup.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def refresh_changed(*, wait: bool = True) -> int:
    """Recompute the days marked as changed; what the beat task runs every minute and
    every report before it reads (without waiting: when another process is at it, the
    report reads what is there). A change committed meanwhile keeps its own mark for
    the next refresh. Returns how many days were recomputed."""
    with transaction.atomic():
        if not take_lock(wait=wait):
            return 0
        changes = list(RollupChange.objects.values_list("pk", "day"))
        if not changes:
            return 0
        days = {day for _pk, day in changes}
        replace(days)
        marks = [pk for pk, _day in changes]
        for start in range(0, len(marks), 500):
            RollupChange.objects.filter(pk__in=marks[start : start + 500]).delete()
    return len(days)


def rebuild() -> int:
    """Recompute every day's rows; returns how many rows there are now."""
    with transaction.atomic():
        take_lock(wait=True)
        RollupChange.objects.all().delete()
        return replace(None)
