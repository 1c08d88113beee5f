"""The staff pages of the desk: who reaches what, and what each action does."""

import pytest
from django.test import Client
from django.urls import reverse

from helpdesk import access, cases
from helpdesk.models import AccessLogEntry, Assignment, Case, Message, Note
from helpdesk.roles import Role
from intake import receipts
from resources.models import Need
from tests.conftest import make_staff, sign_in, train

CANARY = "CANARY-desk-content"


def trained(user, languages=("ar", "en"), needs=("leave", "asylum-be"), capacity=3):
    return train(user, languages=languages, needs=needs, capacity=capacity)


def new_case(*, need="leave", languages=("ar",), urgent=False, volunteer=None) -> Case:
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
    # Place the case by hand (in live-server tests routing has already run after commit).
    Assignment.objects.filter(case=case).delete()
    case.needs_routing = False
    case.volunteer = volunteer
    case.save()
    if volunteer:
        Assignment.objects.create(case=case, volunteer=volunteer)
    return case


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
    fits = new_case(need="leave", languages=("fa", "ar"))
    wrong_need = new_case(need="stay-safe", languages=("ar",))
    wrong_language = new_case(need="leave", languages=("ru",))
    page = volunteer_client.get(reverse("pool")).content.decode()
    assert fits.reference in page
    assert wrong_need.reference not in page and wrong_language.reference not in page
    assert volunteer_client.get(reverse("case", args=[wrong_language.reference])).status_code == 404


def test_claiming_a_pool_case_respects_capacity(volunteer_client, volunteer):
    trained(volunteer, capacity=1)
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
    actions = set(
        AccessLogEntry.objects.filter(case=mine, user=volunteer).values_list("action", flat=True)
    )
    assert {"view", "reply"} <= actions


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
    assert message.body.startswith(arabic.title)
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
    trained(coordinator)

    def count(n):
        for _ in range(n):
            new_case(volunteer=coordinator if name == "desk" else None)
        from django.core.cache import cache
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        cache.delete(access.SHORTAGE_KEY)  # both counts make the pool's shortage table
        with CaptureQueriesContext(connection) as queries:
            assert coordinator_client.get(reverse(name)).status_code == 200
        return len(queries)

    one = count(1)
    many = count(30)
    assert one == many
    page = coordinator_client.get(reverse(name) + "?page=2")
    assert page.status_code == 200


def test_coordinators_see_where_volunteers_are_missing(coordinator_client, volunteer):
    trained(volunteer, languages=("ar",), needs=("leave",))
    new_case(need="leave", languages=("ar",))
    new_case(need="leave", languages=("ru", "ar"))
    page = coordinator_client.get(reverse("pool")).content.decode()
    assert "Where volunteers are missing" in page
    assert "nobody: recruit or train" in page  # Russian first, nobody speaks it
    assert "yes, but at capacity" in page


# What an allowed user gets from each page: GET, then an empty POST.
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
    "case_log": (200, 405),
}
COORDINATOR_ONLY = {"all_cases", "team", "invite_staff", "case_reassign", "case_log"}


@pytest.mark.parametrize("name", sorted(ALLOWED))
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "who", ["anonymous", "unenrolled", "wrong_volunteer", "volunteer", "coordinator"]
)
def test_permission_matrix(client, db, name, method, who):
    """Every desk page, every role, both methods: who gets in, and who gets nothing."""
    owner = trained(make_staff("owner@example.org", Role.VOLUNTEER))
    case = new_case(volunteer=owner)
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
    allowed = ALLOWED[name][0 if method == "get" else 1]
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
