"""Who may reach which case: the one place that answers it, and the access log.

A coordinator reaches every case. A volunteer reaches the cases assigned to them and the
pool cases they qualify for (need and a shared language); anything else is a 404, so a
volunteer cannot even learn that a case exists."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest

from helpdesk.models import AccessLogEntry, Assignment, Case, User, VolunteerProfile
from helpdesk.roles import Role, has_role

MAX_LANGUAGES = 3  # the intake form asks for three at most
SHORTAGE_KEY = "helpdesk:pool-shortage"
SHORTAGE_SECONDS = 60


def speaks_any(codes: list[str]) -> Q:
    """Cases whose languages include one of `codes`. PostgreSQL tests the JSON array's
    elements in one step (`?|`); elsewhere the list is short and tested by position."""
    if not codes:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        return Q(languages__has_any_keys=codes)
    condition = Q(pk__in=[])
    for position in range(MAX_LANGUAGES):
        condition |= Q(**{f"languages__{position}__in": codes})
    return condition


def pool_for(user: User) -> QuerySet[Case]:
    """The waiting cases this volunteer is trained for and speaks a language of."""
    # One query for both lists: a row per (need, language) pair the profile holds.
    pairs = VolunteerProfile.objects.filter(user=user).values_list("needs", "languages__code")
    needs, codes = set(), set()
    for need, code in pairs:
        needs.add(need)
        codes.add(code)
    needs.discard(None)
    codes.discard(None)
    if not needs or not codes:
        return Case.objects.none()
    return (
        Case.objects.with_content()
        .filter(volunteer__isnull=True, needs_routing=False, need__in=sorted(needs))
        .exclude(status=Case.Status.CLOSED)
        .filter(speaks_any(sorted(codes)))
    )


def visible_cases(user: User) -> QuerySet[Case]:
    if has_role(user, Role.COORDINATOR):
        return Case.objects.all()
    return Case.objects.filter(volunteer=user)


def case_for(request: HttpRequest, reference: str, *, action: str, pool: bool = False) -> Case:
    """The case, if this user may reach it for `action`; logs the access. With
    `pool=True` a volunteer may also reach a pool case they qualify for."""
    user = request.user
    case = _find(visible_cases(user), reference)
    if case is None and pool and not has_role(user, Role.COORDINATOR):
        # Asked only when the case is not theirs: their own costs a single query.
        case = _find(pool_for(user), reference)
    if case is None or case.content_destroyed:
        raise Http404
    log(case, user, action)
    return case


def _find(queryset: QuerySet[Case], reference: str) -> Case | None:
    # `unopened`: its volunteer has not opened it since it was assigned (the workspace
    # records the first opening, and need not write on every later view).
    unopened = Assignment.objects.filter(
        case=OuterRef("pk"),
        volunteer=OuterRef("volunteer"),
        ended_at__isnull=True,
        opened_at__isnull=True,
    )
    return (
        queryset.select_related("need", "volunteer")
        .annotate(unopened=Exists(unopened))
        .filter(reference=reference)
        .first()
    )


def log(case: Case, user: User, action: str) -> None:
    AccessLogEntry.objects.create(case=case, user=user, action=action)


def recent_pool_shortage() -> list[dict]:
    """pool_shortage() as it was at most SHORTAGE_SECONDS ago, computed once for every
    coordinator: it groups every waiting case (~40,000 at a million cases, ~55 ms on
    each view of the pool). A minute late is fine: the table says where to recruit or
    train volunteers, a matter of days, and the list of cases under it is always read
    afresh."""
    shortage = cache.get(SHORTAGE_KEY)
    if shortage is None:  # get_or_set() would read the cache a second time
        shortage = pool_shortage()
        cache.set(SHORTAGE_KEY, shortage, SHORTAGE_SECONDS)
    return shortage


def pool_shortage() -> list[dict]:
    """Waiting cases by first language and need, with how many active volunteers could
    take such a case now: where more volunteers are needed."""
    from django.db.models import Count
    from django.db.models.fields.json import KeyTextTransform
    from django.utils import timezone

    waiting = (
        Case.objects.open()
        .with_content()
        .filter(volunteer__isnull=True, needs_routing=False)
        .annotate(first_language=KeyTextTransform("0", "languages"))
        .values("first_language", "need__slug", "need__name")
        .annotate(cases=Count("pk"))
        .order_by("-cases")
    )
    today = timezone.localdate()
    available = VolunteerProfile.objects.filter(user__is_active=True).exclude(
        paused_until__gte=today
    )
    pairs = set(available.values_list("languages__code", "needs__slug"))
    return [
        {**row, "volunteers_exist": (row["first_language"], row["need__slug"]) in pairs}
        for row in waiting
    ]
