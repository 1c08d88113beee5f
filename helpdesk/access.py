"""Who may reach which case: the one place that answers it, and the access log.

A coordinator reaches every case. A volunteer reaches the cases assigned to them and the
pool cases they qualify for (need and a shared language); anything else is a 404, so a
volunteer cannot even learn that a case exists. What they may then do to it is the
case's own answer (Case.refusal)."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.http import Http404, HttpRequest

from helpdesk.models import AccessLogEntry, Assignment, Case, User, VolunteerProfile
from helpdesk.roles import Role, has_role

SHORTAGE_KEY = "helpdesk:pool-shortage"
SHORTAGE_SECONDS = 60


def visible_cases(user: User) -> QuerySet[Case]:
    if has_role(user, Role.COORDINATOR):
        return Case.objects.all()
    return Case.objects.filter(volunteer=user)


def case_for(request: HttpRequest, reference: str, *, action: str = "", pool: bool = False) -> Case:
    """The case, if this user may reach it; logs `action` (a view) if given; an action
    that changes the case logs itself. With `pool=True` a volunteer may also reach a
    pool case they qualify for."""
    user = request.user
    case = _find(visible_cases(user), reference)
    if case is None and pool and not has_role(user, Role.COORDINATOR):
        # Asked only when the case is not theirs: their own costs a single query.
        case = _find(Case.objects.pool().qualified_for(user), reference)
    if case is None:
        raise Http404
    if action == AccessLogEntry.Action.VIEW:
        AccessLogEntry.objects.record_view(case, user)
    elif action:
        AccessLogEntry.objects.record(case, user, action)
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
    """Waiting cases by first language and need, with whether any available volunteer
    could take such a case: where more volunteers are needed."""
    waiting = (
        Case.objects.pool()
        .annotate(first_language=KeyTextTransform("0", "languages"))
        .values("first_language", "need__slug", "need__name")
        .annotate(cases=Count("pk"))
        .order_by("-cases")
    )
    pairs = set(VolunteerProfile.objects.available().values_list("languages__code", "needs__slug"))
    return [
        {**row, "volunteers_exist": (row["first_language"], row["need__slug"]) in pairs}
        for row in waiting
    ]
