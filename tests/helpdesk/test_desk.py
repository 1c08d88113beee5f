"""The staff pages of the desk: who reaches what, and what each action does."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpdesk import access, cases, dispatch, team
from helpdesk.models import AccessLogEntry, Assignment, Case, Message, Note
from helpdesk.roles import Role
from intake import receipts
from resources.models import Need
from tests.conftest import make_staff, sign_in, train

CANARY = "CANARY-desk-content"


def trained(user, languages=("ar", "en"), needs=("leave", "asylum-be"), capacity=3):
    return train(user, languages=languages, needs=needs, capacity=capacity)


def new_case(*, need="leave", languages=("ar",), urgent=False, volunteer=None) -> Case:
    """A case submitted as the form does and routed as the task after commit does (a
    test's transaction never commits); then taken by `volunteer` if named and routing
    left it in the pool."""
    case = cases.submit_concern(
        receipt_hash=receipts.receipt_hash(receipts.new_receipt()),
        submission_key=receipts.new_receipt(),
        for_whom="self",
        need=Need.objects.get(slug=need),
        country="SY",
        languages=list(languages),
        language="ar",
        urgent=urgent,
        description=f"Help me {CANARY}",
    )
    dispatch.route_case(case.pk)
    case.refresh_from_db()
    if volunteer is not None and case.volunteer_id != volunteer.pk:
        assert case.volunteer_id is None, "routing gave the case to someone else"
        case.claim(by=volunteer)
    return case


@contextmanager
def away(*volunteers):
    """Volunteers paused for a moment, as they pause themselves: cases that come in
    meanwhile find nobody and wait in the pool. (Coming back queues a drain after
    commit, which a test's transaction never reaches.)"""
    until = timezone.localdate() + timedelta(days=1)
    for volunteer in volunteers:
        team.pause(user=volunteer, until=until, return_cases=False)
    try:
        yield
    finally:
        for volunteer in volunteers:
            team.pause(user=volunteer, until=None, return_cases=False)


@pytest.fixture
def other_volunteer(db):
    return trained(make_staff("other@example.org", Role.VOLUNTEER))


@pytest.fixture
def mine(volunteer):
    trained(volunteer)
    return new_case(volunteer=volunteer)


def case_urls(case):
    ref = case.reference
    return {
        "get": [reverse("case", args=[ref])],
        "post": [
            reverse(name, args=[ref])
            for name in ("case_reply", "case_note", "case_status", "case_share")
        ],
    }


def test_volunteer_reaches_own_case_but_not_anothers(volunteer_client, mine, other_volunteer):
    theirs = new_case(volunteer=other_volunteer)
    assert volunteer_client.get(reverse("case", args=[mine.reference])).status_code == 200
    for url in case_urls(theirs)["get"]:
        assert volunteer_client.get(url).status_code == 404
    for url in case_urls(theirs)["post"]:
        assert volunteer_client.post(url, {"body": "x", "status": "closed"}).status_code == 404
    assert volunteer_client.post(reverse("case_claim", args=[theirs.reference])).status_code == 404
    assert not Message.objects.filter(case=theirs).exists()


def test_anonymous_and_unenrolled_are_refused_every_desk_page(client, outsider, mine):
    urls = [reverse("desk"), reverse("pool"), reverse("all_cases"), *case_urls(mine)["get"]]
    for url in urls:
        assert client.get(url).url.startswith(reverse("account_login"))
    for url in urls:
        sign_in(client, outsider)  # a password alone: signed out again, nothing shown
        response = client.get(url)
        assert response.status_code == 403
        assert CANARY not in response.content.decode()


def test_the_pool_shows_only_cases_the_volunteer_qualifies_for(volunteer_client, volunteer):
    trained(volunteer, languages=("ar",), needs=("leave",))
    with away(volunteer):
        fits = new_case(need="leave", languages=("fa", "ar"))
        wrong_need = new_case(need="stay-safe", languages=("ar",))
        wrong_language = new_case(need="leave", languages=("ru",))
    page = volunteer_client.get(reverse("pool")).content.decode()
    assert fits.reference in page
    assert wrong_need.reference not in page and wrong_language.reference not in page
    assert volunteer_client.get(reverse("case", args=[wrong_language.reference])).status_code == 404


def test_claiming_a_pool_case_respects_capacity(volunteer_client, volunteer):
    trained(volunteer, capacity=1)
    with away(volunteer):
        first, second = new_case(), new_case()
    response = volunteer_client.post(reverse("case_claim", args=[first.reference]))
    assert response.url == reverse("case", args=[first.reference])
    first.refresh_from_db()
    assert first.volunteer == volunteer
    response = volunteer_client.post(reverse("case_claim", args=[second.reference]), follow=True)
    assert "at your capacity" in response.content.decode()
    second.refresh_from_db()
    assert second.volunteer is None


def test_reply_reaches_the_inbox_and_is_logged(volunteer_client, volunteer, mine):
    volunteer_client.post(reverse("case_reply", args=[mine.reference]), {"body": "We are here."})
    message = Message.objects.get(case=mine)
    assert message.author == "staff" and message.body == "We are here."
    mine.refresh_from_db()
    assert mine.first_response_at and mine.status == Case.Status.IN_PROGRESS
    # One entry for the one thing done: a reply, not a "view" for the post as well.
    actions = list(
        AccessLogEntry.objects.filter(case=mine, user=volunteer).values_list("action", flat=True)
    )
    assert actions == ["reply"]


def test_viewing_is_logged_without_content(volunteer_client, volunteer, mine):
    volunteer_client.get(reverse("case", args=[mine.reference]))
    entry = AccessLogEntry.objects.get(case=mine, action="view")
    assert entry.user == volunteer
    assert CANARY not in str(entry.__dict__)
    assert Assignment.objects.get(case=mine).opened_at is not None


def test_notes_stay_internal(volunteer_client, mine):
    volunteer_client.post(reverse("case_note", args=[mine.reference]), {"body": "Seems urgent"})
    assert Note.objects.get(case=mine).body == "Seems urgent"
    visitor = Client()
    # The submitter's inbox never shows notes.
    assert not Message.objects.filter(case=mine).exists()
    assert visitor.get(reverse("intake:inbox")).status_code == 302


def test_closing_needs_a_reason(volunteer_client, mine):
    response = volunteer_client.post(
        reverse("case_status", args=[mine.reference]), {"status": "closed"}
    )
    assert response.status_code == 400
    assert "say why" in response.content.decode()
    volunteer_client.post(
        reverse("case_status", args=[mine.reference]), {"status": "closed", "reason": "resolved"}
    )
    mine.refresh_from_db()
    assert mine.status == "closed" and mine.close_reason == "resolved" and mine.closed_at


def test_sharing_guidance_puts_it_in_the_submitters_language(volunteer_client, mine, library):
    page = volunteer_client.get(reverse("case", args=[mine.reference])).content.decode()
    assert "leave-overview" in page
    volunteer_client.post(
        reverse("case_share", args=[mine.reference]), {"guidance": "leave-overview"}
    )
    message = Message.objects.get(case=mine)
    from resources.models import GuidanceTranslation

    arabic = GuidanceTranslation.objects.get(guidance__slug="leave-overview", language_id="ar")
    assert (message.kind, message.language, message.direction) == ("guidance", "ar", "rtl")
    assert message.body == f"# {arabic.title}\n\n{arabic.body}"

    # Both sides read it rendered, never as Markdown.
    page = volunteer_client.get(reverse("case", args=[mine.reference])).content.decode()
    shared = page.split('bubble__text--guidance" lang="ar" dir="rtl">')[1].split("</div>")[0]
    assert f"<h3>{arabic.title}</h3>" in shared
    assert "##" not in shared and "](" not in shared
    assert (
        volunteer_client.post(
            reverse("case_share", args=[mine.reference]), {"guidance": "nope"}
        ).status_code
        == 404
    )


def test_coordinator_reassigns_and_reads_the_access_log(
    coordinator_client, coordinator, volunteer, other_volunteer
):
    trained(volunteer)
    case = new_case(volunteer=volunteer)
    coordinator_client.post(
        reverse("case_reassign", args=[case.reference]), {"volunteer": other_volunteer.pk}
    )
    case.refresh_from_db()
    assert case.volunteer == other_volunteer
    assert (
        Assignment.objects.filter(case=case, ended_at__isnull=True).get().volunteer
        == other_volunteer
    )
    page = coordinator_client.get(reverse("case_log", args=[case.reference])).content.decode()
    assert "Reassigned" in page and str(coordinator) in page
    assert CANARY not in page


def test_all_cases_filters(coordinator_client, volunteer):
    trained(volunteer)
    urgent = new_case(urgent=True, languages=("fa",))
    calm = new_case(need="asylum-be", languages=("en",), volunteer=volunteer)
    page = coordinator_client.get(reverse("all_cases"), {"urgent": "yes"}).content.decode()
    assert urgent.reference in page and calm.reference not in page
    page = coordinator_client.get(reverse("all_cases"), {"language": "en"}).content.decode()
    assert calm.reference in page and urgent.reference not in page
    page = coordinator_client.get(
        reverse("all_cases"), {"volunteer": volunteer.pk}
    ).content.decode()
    assert calm.reference in page and urgent.reference not in page
    page = coordinator_client.get(reverse("all_cases"), {"need": "banana"}).content.decode()
    assert "Select a valid choice" in page


@pytest.mark.parametrize("name", ["desk", "pool", "all_cases"])
def test_lists_run_a_constant_number_of_queries(
    coordinator_client, coordinator, django_assert_max_num_queries, name
):
    trained(coordinator, capacity=100)

    def count(n):
        for _ in range(n):
            if name == "desk":
                new_case(volunteer=coordinator)
            else:
                with away(coordinator):
                    new_case()
        from django.core.cache import cache
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        cache.delete(access.SHORTAGE_KEY)  # both counts make the pool's shortage table
        with CaptureQueriesContext(connection) as queries:
            assert coordinator_client.get(reverse(name)).status_code == 200
        return len(queries)

    count(1)  # the first rows fill the library's names kept in memory
    one = count(0)
    many = count(30)
    # A list shorter than a page is not counted; a longer one is, once, however long.
    assert many == one + 1
    page = coordinator_client.get(reverse(name) + "?page=2")
    assert page.status_code == 200


def test_coordinators_see_where_volunteers_are_missing(coordinator_client, volunteer):
    trained(volunteer, languages=("ar",), needs=("leave",), capacity=1)
    new_case(need="leave", languages=("ar",), volunteer=volunteer)  # now at capacity
    new_case(need="leave", languages=("ar",))
    new_case(need="leave", languages=("ru", "ar"))
    page = coordinator_client.get(reverse("pool")).content.decode()
    assert "Where volunteers are missing" in page
    assert "nobody: recruit or train" in page  # Russian first, nobody speaks it
    assert "yes, but at capacity" in page


# What an allowed user gets from each page: GET, then an empty POST, on a case its
# volunteer holds.
ALLOWED = {
    "desk": (200, 405),
    "pool": (200, 405),
    "all_cases": (200, 405),
    "team": (200, 405),
    "invite_staff": (200, 200),  # the form again, with errors
    "my_availability": (200, 200),
    "case": (200, 405),
    "case_reply": (405, 400),
    "case_note": (405, 400),
    "case_status": (405, 400),
    "case_share": (405, 404),  # no such guidance piece
    "case_reassign": (405, 302),  # an empty choice returns the case to the pool
    "case_reopen": (405, 409),  # it is not closed
    "case_log": (200, 405),
}
# The same on a closed case: whatever would write is refused (409) before anything else
# is looked at; only reopening goes through. With its content destroyed, not even that.
CLOSED = {
    **ALLOWED,
    **{name: (405, 409) for name in ("case_reply", "case_note", "case_status", "case_share")},
    "case_reassign": (405, 409),
    "case_reopen": (405, 302),
}
DESTROYED = {**CLOSED, "case_reopen": (405, 409)}
BY_STATE = {"held": ALLOWED, "closed": CLOSED, "destroyed": DESTROYED}
COORDINATOR_ONLY = {"all_cases", "team", "invite_staff", "case_reassign", "case_log"}


@pytest.mark.parametrize("name", sorted(ALLOWED))
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "who", ["anonymous", "unenrolled", "wrong_volunteer", "volunteer", "coordinator"]
)
@pytest.mark.parametrize("state", sorted(BY_STATE))
def test_permission_matrix(client, db, name, method, who, state):
    """Every desk page, every role, both methods, a case held, closed or destroyed: who
    gets in, and who gets nothing."""
    owner = trained(make_staff("owner@example.org", Role.VOLUNTEER))
    case = new_case(volunteer=owner)
    if state == "closed":
        case.close("resolved", by=owner)
    elif state == "destroyed":
        case.destroy_content(by_submitter=True)
    people = {
        "unenrolled": make_staff("plain@example.org", Role.VOLUNTEER, mfa=False),
        "wrong_volunteer": trained(make_staff("wrong@example.org", Role.VOLUNTEER)),
        "volunteer": owner,
        "coordinator": make_staff("coord@example.org", Role.COORDINATOR),
    }
    if who != "anonymous":
        sign_in(client, people[who])
    needs_case = name == "case" or name.startswith("case_")
    response = getattr(client, method)(reverse(name, args=[case.reference] if needs_case else []))
    code = response.status_code
    allowed = BY_STATE[state][name][0 if method == "get" else 1]
    if who == "anonymous":
        assert code == 302 and response.url.startswith(reverse("account_login"))
    elif who == "unenrolled":  # a password alone: signed out again, nothing shown
        assert code == 403 and "_auth_user_id" not in client.session
    elif name in COORDINATOR_ONLY and who != "coordinator":
        assert code in (403, 405) if allowed == 405 else code == 403
    elif needs_case and who == "wrong_volunteer" and allowed != 405:
        assert code == 404  # not even the case's existence is revealed
    else:
        assert code == allowed


def test_closing_a_case_gives_the_freed_place_to_the_pool(
    volunteer_client, volunteer, django_capture_on_commit_callbacks
):
    trained(volunteer, capacity=1)
    mine = new_case(volunteer=volunteer)
    waiting = new_case()
    with django_capture_on_commit_callbacks(execute=True):
        volunteer_client.post(
            reverse("case_status", args=[mine.reference]),
            {"status": "closed", "reason": "resolved"},
        )
    waiting.refresh_from_db()
    assert waiting.volunteer == volunteer


def test_a_reassigned_volunteer_is_told_by_email_without_content(
    coordinator_client, volunteer, other_volunteer, django_capture_on_commit_callbacks
):
    from django.core import mail

    trained(volunteer)
    case = new_case(volunteer=volunteer)
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(
            reverse("case_reassign", args=[case.reference]), {"volunteer": other_volunteer.pk}
        )
    sent = [m for m in mail.outbox if other_volunteer.email in m.to]
    assert len(sent) == 1
    assert case.reference in sent[0].body and CANARY not in sent[0].body + sent[0].subject


def test_case_facts_are_names_in_the_readers_language(client, volunteer, library):
    case = new_case(volunteer=trained(volunteer), languages=("ar", "en"))
    sign_in(client, volunteer)
    page = client.get(reverse("case", args=[case.reference]), HTTP_ACCEPT_LANGUAGE="fa")
    facts = page.content.decode().split('<dl class="facts">')[1].split("</dl>")[0]
    assert "سوریه" in facts and ">SY<" not in facts  # the country, in Persian
    assert "العربية, English" in facts  # each language in its own name
    assert "ago" not in facts and "پیش" in facts  # "… ago", said in Persian
    english = client.get(reverse("case", args=[case.reference])).content.decode()
    assert "Syria" in english and "ago</time>" in english


def test_all_cases_shows_each_cases_status(coordinator_client, volunteer):
    case = new_case(volunteer=trained(volunteer))
    case.close("resolved", by=volunteer)
    page = coordinator_client.get(reverse("all_cases")).content.decode()
    assert '<th scope="col">Status</th>' in page
    assert '<td data-label="Status">Closed</td>' in page
