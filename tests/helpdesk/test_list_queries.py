"""The staff pages cost the same number of queries whatever the size of the desk, and a
list counts no further than it needs: past COUNT_AHEAD it says "more than"."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk import access, views
from helpdesk.models import Case, Message, Note, Referral
from helpdesk.sessions import SEEN_KEY
from resources.matching import match
from resources.models import Need, Organisation
from tests.helpdesk.test_desk import away, new_case, trained

MAX_QUERIES = 10


def queries(client, url: str, *, shared_cache: bool = True) -> int:
    """SQL queries of one page. Without `shared_cache`, leave out the embedded mode's
    database cache, which stands in for production's Redis (a write to it alone is
    five statements)."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len([q for q in captured.captured_queries if shared_cache or not of_cache(q["sql"])])


def of_cache(sql: str) -> bool:
    table = settings.CACHES["default"].get("LOCATION", "")
    return f'"{table}"' in sql or "SAVEPOINT" in sql


@pytest.mark.parametrize("name", ["desk", "pool"])
def test_a_volunteers_lists_cost_the_same_with_many_cases(
    volunteer_client, volunteer, name, monkeypatch
):
    # The last-seen time is written once a minute (test_a_staff_page_does_not_save_the_
    # session_each_time); a slow machine must not make that write fall between the two
    # counts compared here.
    monkeypatch.setattr("helpdesk.sessions.SEEN_REFRESH_SECONDS", 10**6)
    trained(volunteer, languages=("ar",), needs=("leave",), capacity=50)
    url = reverse(name)
    volunteer_client.get(url)  # the session's first request stores its timestamps

    def grow(n: int) -> int:
        for _ in range(n):
            new_case(volunteer=volunteer)  # theirs
            with away(volunteer):
                new_case(languages=("fa", "ar"))  # in their pool
                new_case(languages=("ru",))  # in nobody's pool of theirs
        return queries(volunteer_client, url)

    grow(1)  # the first rows fill the library's names kept in memory
    few, many = grow(0), grow(30)
    # A list shorter than a page is not counted; a longer one is, once, however long.
    assert few + 1 == many <= MAX_QUERIES
    assert volunteer_client.get(url + "?page=2").status_code == 200


def test_the_coordinators_lists_cost_the_same_with_many_cases(
    coordinator_client, volunteer, monkeypatch
):
    monkeypatch.setattr("helpdesk.sessions.SEEN_REFRESH_SECONDS", 10**6)  # as above
    trained(volunteer, capacity=100)
    urls = [
        reverse("pool"),
        reverse("all_cases"),
        reverse("all_cases") + "?status=new&language=ar&urgent=no",
    ]
    for url in urls:
        coordinator_client.get(url)

    def grow(n: int) -> list[int]:
        for _ in range(n):
            with away(volunteer):
                new_case(languages=("fa", "ar"))
            new_case(volunteer=volunteer, languages=("ar",))
        cache.delete(access.SHORTAGE_KEY)  # the full cost: the shortage table made anew
        return [queries(coordinator_client, url, shared_cache=False) for url in urls]

    grow(1)  # the first rows fill the library's names kept in memory
    few, many = grow(0), grow(30)
    # A list shorter than a page is not counted; a longer one is, once, however long.
    assert [n + 1 for n in few] == many
    assert max(many) <= MAX_QUERIES


def test_the_shortage_table_is_made_once_for_a_minute(coordinator_client, coordinator):
    new_case(languages=("fa", "ar"), need="asylum-be")
    url = reverse("pool")
    coordinator_client.get(url)  # the session's first request stores its timestamps
    cache.delete(access.SHORTAGE_KEY)
    with CaptureQueriesContext(connection) as cold:
        first = coordinator_client.get(url)
    new_case(languages=("ru",), need="asylum-be")
    with CaptureQueriesContext(connection) as warm:
        again = coordinator_client.get(url)

    def grouped(captured) -> list[str]:
        return [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"]]

    assert grouped(cold) and not grouped(warm)
    assert len(warm) < len(cold)
    assert again.context["shortage"] == first.context["shortage"]  # a minute late at most
    assert [row["first_language"] for row in first.context["shortage"]] == ["fa"]
    assert again.context["page"].paginator.count == 2  # the list itself is current

    cache.delete(access.SHORTAGE_KEY)  # as when the minute is over
    latest = coordinator_client.get(url).context["shortage"]
    assert sorted(row["first_language"] for row in latest) == ["fa", "ru"]


def test_the_workspace_costs_the_same_however_long_the_case(volunteer_client, volunteer, library):
    trained(volunteer)
    case = new_case(need="asylum-be", languages=("ar", "en"), volunteer=volunteer)
    url = reverse("case", args=[case.reference])
    volunteer_client.get(url)  # the first opening is recorded once

    def grow(n: int) -> int:
        organisation = Organisation.objects.first()
        for i in range(n):
            Message.objects.create(case=case, author="submitter", body=f"message {i}")
            Note.objects.create(case=case, author=volunteer, body=f"note {i}")
            Referral.objects.create(case=case, organisation=organisation, created_by=volunteer)
        return queries(volunteer_client, url)

    # Session, user, case, access log, messages, notes, referrals (and, in the embedded
    # mode, the library's version from the database cache): the library is in memory.
    assert grow(1) == grow(20) <= MAX_QUERIES


def test_the_workspace_reads_no_library_when_warm(volunteer_client, volunteer, library):
    trained(volunteer)
    case = new_case(need="asylum-be", languages=("ar", "en"), volunteer=volunteer)
    url = reverse("case", args=[case.reference])
    volunteer_client.get(url)
    with CaptureQueriesContext(connection) as captured:
        page = volunteer_client.get(url).content.decode()
    assert not [q["sql"] for q in captured.captured_queries if 'FROM "resources_' in q["sql"]]
    assert "Briefings for volunteers" in page and "<details" in page


def test_the_workspace_shows_an_edited_guidance_text_at_once(volunteer_client, volunteer, library):
    trained(volunteer)
    case = new_case(need="asylum-be", languages=("en",), volunteer=volunteer)
    url = reverse("case", args=[case.reference])
    response = volunteer_client.get(url)
    briefing = next(
        item
        for item in response.context["matches"].guidance
        if item.guidance.audience == "volunteer"
    )
    shared = response.context["shareable"][0]
    assert briefing.translation.title in response.content.decode()

    # A coordinator edits both texts (the admin saves them like this).
    briefing.translation.title = "Before you answer: read this first"
    briefing.translation.body = "Ask which **town** they are in now."
    briefing.translation.save()
    shared.translation.title = "Your rights in Belgium, rewritten"
    shared.translation.save()

    page = volunteer_client.get(url).content.decode()
    assert "Before you answer: read this first" in page
    assert "Ask which <strong>town</strong> they are in now." in page
    assert "Your rights in Belgium, rewritten" in page


def test_viewing_a_case_again_does_not_write_its_opening_again(
    volunteer_client, volunteer, library
):
    trained(volunteer)
    case = new_case(volunteer=volunteer)
    url = reverse("case", args=[case.reference])
    with CaptureQueriesContext(connection) as first:
        volunteer_client.get(url)
    with CaptureQueriesContext(connection) as again:
        volunteer_client.get(url)
    updates = [q["sql"] for q in again.captured_queries if q["sql"].startswith("UPDATE")]
    assert not updates
    assert any(
        "helpdesk_assignment" in q["sql"] for q in first.captured_queries if "UPDATE" in q["sql"]
    )
    assert case.assignments.get().opened_at is not None


def test_a_staff_page_does_not_save_the_session_each_time(volunteer_client, volunteer):
    volunteer_client.get(reverse("desk"))
    seen = volunteer_client.session[SEEN_KEY]
    with CaptureQueriesContext(connection) as captured:
        volunteer_client.get(reverse("desk"))
    assert not [
        q
        for q in captured.captured_queries
        if "django_session" in q["sql"] and "UPDATE" in q["sql"]
    ]
    assert volunteer_client.session[SEEN_KEY] == seen


def test_a_long_list_says_more_than_instead_of_counting_everything(coordinator_client, monkeypatch):
    monkeypatch.setattr(views, "COUNT_AHEAD", 4)
    cases = [new_case(languages=("ar",)) for _ in range(7)]
    monkeypatch.setattr(views, "PAGE_SIZE", 2)

    page = coordinator_client.get(reverse("all_cases")).content.decode()
    assert "Cases found: more than 4." in page
    assert "Page 1<" in page and "Page 1 of" not in page
    assert "page=2" in page

    # Further on, the count reaches the end of the list: exact again.
    page = coordinator_client.get(reverse("all_cases"), {"page": 3}).content.decode()
    assert "7 cases" in page and "Page 3 of 4" in page
    shown = [case.reference for case in cases if case.reference in page]
    assert len(shown) == 2


def test_the_pool_hint_stops_counting(volunteer_client, volunteer, monkeypatch):
    trained(volunteer, languages=("ar",), needs=("leave",))
    monkeypatch.setattr(views, "POOL_HINT_LIMIT", 2)
    with away(volunteer):
        new_case()
        new_case()
    assert "2 cases wait in the pool" in volunteer_client.get(reverse("desk")).content.decode()
    with away(volunteer):
        new_case()
    page = volunteer_client.get(reverse("desk")).content.decode()
    assert "Cases waiting in the pool for someone like you: more than 2." in page


@pytest.mark.parametrize("for_whom", ["self", "other"])
def test_the_workspace_offers_what_match_gives_the_persons_audience(
    volunteer_client, volunteer, library, for_whom
):
    trained(volunteer)
    case = new_case(need="leave", languages=("fa", "en"), volunteer=volunteer)
    case.for_whom = for_whom
    case.save(update_fields=["for_whom"])
    response = volunteer_client.get(reverse("case", args=[case.reference]))
    offered = [item.guidance.slug for item in response.context["shareable"]]
    audience = "person" if for_whom == "self" else "friend"
    expected = match(need="leave", languages=["fa", "en"], country="SY", audience=audience)
    assert offered == [item.guidance.slug for item in expected.guidance]
    assert offered  # the library has pieces for this need


def test_a_case_list_decrypts_no_content(coordinator_client, volunteer, monkeypatch):
    """A list shows references, needs and dates: nothing a person wrote is fetched or
    decrypted for it (less to leak, and decrypting 25 rows was a cost of every list)."""
    from helpdesk import encryption

    trained(volunteer)
    for _ in range(3):
        new_case(volunteer=volunteer, languages=("ar",))
        new_case(languages=("fa",))
    decrypted = []
    real_unseal = encryption.unseal
    monkeypatch.setattr(
        encryption, "unseal", lambda token, **kw: decrypted.append(1) or real_unseal(token, **kw)
    )
    for url in (reverse("pool"), reverse("all_cases")):
        page = coordinator_client.get(url)
        assert page.status_code == 200 and page.content.decode().count("<tr>") >= 4
    assert decrypted == []
    coordinator_client.get(reverse("case", args=[Case.objects.first().reference]))
    assert decrypted  # the workspace does decrypt: the spy sees it


def test_the_case_filter_lists_the_library_without_asking_for_it(coordinator_client):
    """The filter's needs and languages come from the library kept in memory, made again
    when the library changes: a new need is listed and can be chosen."""
    url = reverse("all_cases")
    coordinator_client.get(url)
    with CaptureQueriesContext(connection) as captured:
        coordinator_client.get(url + "?need=1&language=ar")
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert 'FROM "resources_need"' not in sql and 'FROM "resources_language"' not in sql

    need = Need.objects.create(slug="housing", name="A safe place to sleep", position=9)
    page = coordinator_client.get(url + f"?need={need.pk}").content.decode()
    assert f'<option value="{need.pk}" selected>A safe place to sleep</option>' in page
    assert "errors" not in page.split('id="id_need"')[0].rsplit('class="field', 1)[1]


def test_the_shown_load_is_the_load_routing_counts(volunteer):
    """The team page and the hand-over list count open cases from the open-cases index
    (with_shown_load); routing groups the cases (with_load). Both must agree, also for a
    closed case and one whose content the person had destroyed."""
    from helpdesk.models import CloseReason, VolunteerProfile
    from helpdesk.roles import Role
    from tests.conftest import make_staff

    other_volunteer = trained(make_staff("other@example.org", Role.VOLUNTEER))
    trained(volunteer, capacity=10)
    with away(other_volunteer):
        held = [new_case(volunteer=volunteer) for _ in range(3)]
    held[0].close(CloseReason.RESOLVED, by=volunteer)
    held[1].destroy_content(by_submitter=True)
    shown = dict(VolunteerProfile.objects.with_shown_load().values_list("user_id", "open_cases"))
    routed = dict(VolunteerProfile.objects.with_load().values_list("user_id", "open_cases"))
    assert shown == routed
    assert shown[volunteer.pk] == 1 and shown[other_volunteer.pk] == 0
