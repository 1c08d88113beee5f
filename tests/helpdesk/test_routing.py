from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from helpdesk import dispatch, pool, queue, routing
from helpdesk.models import Assignment, Case
from helpdesk.roles import Role
from helpdesk.routing import Candidate, CaseFacts, decide
from resources.models import Need
from tests.conftest import make_staff, train

TODAY = date(2026, 11, 24)
LANGUAGES = ["en", "fr", "ar", "fa", "ru"]
NEEDS = ["stay-safe", "leave", "asylum-be", "unsure"]


def volunteer(id, languages=("en",), needs=("leave",), capacity=3, open_cases=0, **extra):
    return Candidate(id, frozenset(languages), frozenset(needs), capacity, open_cases, **extra)


def test_need_and_language_must_match():
    case = CaseFacts(need="leave", languages=("ar",))
    assert (
        decide(case, [volunteer(1, ("en",)), volunteer(2, ("ar",), ("stay-safe",))], today=TODAY)
        is None
    )
    assert decide(case, [volunteer(3, ("ar", "en"))], today=TODAY).volunteer_id == 3


def test_an_earlier_language_preference_wins_over_load():
    case = CaseFacts(need="leave", languages=("fa", "en"))
    busy_farsi = volunteer(1, ("fa",), open_cases=2)
    idle_english = volunteer(2, ("en",))
    decision = decide(case, [idle_english, busy_farsi], today=TODAY)
    assert decision.volunteer_id == 1 and decision.language == "fa"


def test_least_loaded_relative_to_capacity_then_longest_idle():
    case = CaseFacts(need="leave", languages=("en",))
    half = volunteer(1, capacity=4, open_cases=2)
    third = volunteer(2, capacity=3, open_cases=1)
    assert decide(case, [half, third], today=TODAY).volunteer_id == 2
    recent = volunteer(3, last_assigned_at=datetime(2026, 11, 24, tzinfo=UTC))
    long_ago = volunteer(4, last_assigned_at=datetime(2026, 11, 1, tzinfo=UTC))
    assert decide(case, [recent, long_ago], today=TODAY).volunteer_id == 4


def test_full_paused_and_inactive_volunteers_are_skipped():
    case = CaseFacts(need="leave", languages=("en",))
    assert decide(case, [volunteer(1, capacity=2, open_cases=2)], today=TODAY) is None
    assert decide(case, [volunteer(2, paused_until=TODAY)], today=TODAY) is None
    assert decide(case, [volunteer(3, paused_until=TODAY - timedelta(days=1))], today=TODAY)
    assert decide(case, [volunteer(4, active=False)], today=TODAY) is None


candidates = st.lists(
    st.builds(
        Candidate,
        id=st.integers(1, 10_000),
        languages=st.frozensets(st.sampled_from(LANGUAGES), max_size=3),
        needs=st.frozensets(st.sampled_from(NEEDS), max_size=3),
        capacity=st.integers(1, 6),
        open_cases=st.integers(0, 7),
        active=st.booleans(),
        paused_until=st.none() | st.dates(TODAY - timedelta(days=3), TODAY + timedelta(days=3)),
        last_assigned_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    ),
    max_size=12,
    unique_by=lambda candidate: candidate.id,
)
cases = st.builds(
    CaseFacts,
    need=st.sampled_from(NEEDS),
    languages=st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=3, unique=True).map(tuple),
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(case=cases, pool=candidates)
def test_any_decision_respects_need_language_capacity_and_is_stable(case, pool):
    decision = decide(case, pool, today=TODAY)
    eligible = [
        c
        for c in pool
        if c.active
        and not routing.is_paused(c.paused_until, TODAY)
        and case.need in c.needs
        and c.open_cases < c.capacity
        and set(case.languages) & c.languages
    ]
    assert (decision is None) == (not eligible)
    if decision:
        chosen = next(c for c in pool if c.id == decision.volunteer_id)
        assert chosen in eligible
        assert decision.language in chosen.languages and decision.language in case.languages
        # No eligible volunteer speaks a language the person preferred more.
        rank = case.languages.index(decision.language)
        assert not any(set(case.languages[:rank]) & c.languages for c in eligible)
        assert decide(case, list(reversed(pool)), today=TODAY) == decision


def staff_for(email, languages, needs, capacity=2):
    user = make_staff(email, Role.VOLUNTEER)
    return train(user, languages=languages, needs=needs, capacity=capacity)


def new_case(need="leave", languages=("ar",), urgent=False, n=[0]):  # noqa: B006
    n[0] += 1
    return Case.objects.create(
        reference=f"R{n[0]:07d}",
        receipt_hash=f"h{n[0]}",
        for_whom="self",
        need=Need.objects.get(slug=need),
        country="SY",
        languages=list(languages),
        language="ar",
        urgent=urgent,
        description="x",
    )


def test_route_case_assigns_once_and_records_it(db):
    amira = staff_for("amira@example.org", ["ar", "fr"], ["leave"])
    case = new_case()
    assert dispatch.route_case(case.pk) == amira.pk
    assert dispatch.route_case(case.pk) == amira.pk  # idempotent
    case.refresh_from_db()
    assert case.volunteer == amira and not case.needs_routing
    assert Assignment.objects.filter(case=case).count() == 1


def test_capacity_is_never_exceeded_and_the_rest_waits_in_the_pool(db):
    amira = staff_for("amira@example.org", ["ar"], ["leave"], capacity=2)
    routed = [dispatch.route_case(new_case().pk) for _ in range(3)]
    assert routed == [amira.pk, amira.pk, None]
    assert Case.objects.filter(volunteer=amira).count() == 2
    waiting = Case.objects.get(volunteer__isnull=True)
    assert not waiting.needs_routing  # routed once: it is in the pool, not forgotten


def test_a_case_saved_while_the_broker_is_down_is_routed_by_the_sweep(db, monkeypatch, caplog):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    amira = staff_for("amira@example.org", ["ar"], ["leave"])
    monkeypatch.setattr("helpdesk.tasks.route_case.delay", broker_down)
    case = new_case()
    queue.enqueue("route_case", case.pk)  # what on_commit runs after the submission
    case.refresh_from_db()
    assert case.needs_routing and case.volunteer is None
    assert "Could not queue (or, eager, run) helpdesk.tasks.route_case" in caplog.text
    assert pool.sweep() == 1
    case.refresh_from_db()
    assert case.volunteer == amira and not case.needs_routing
