import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk.models import Case
from intake import receipts
from resources.models import Need
from tests.intake.conftest import CANARY, concern, receipt_in
from tests.resources.conftest import add_guidance


def test_start_page_offers_both_ways_in_and_says_what_happens(client, db):
    page = client.get("/").content.decode()
    assert "I need help for myself" in page
    assert "I am helping someone" in page
    assert "/write/?for=self" in page and "/write/?for=other" in page
    assert "/guide/" in page
    assert "receipt code" in page
    assert "90 days" in page


def test_the_form_preselects_for_whom_and_has_no_name_field(client, db):
    page = client.get(reverse("intake:write") + "?for=other").content.decode()
    assert 'value="other" required id="id_for_whom_1" checked' in page or (
        'value="other"' in page and "checked" in page
    )
    assert 'name="name"' not in page
    assert 'type="file"' not in page


def test_submitting_creates_an_encrypted_case_waiting_for_routing(submit, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # routing is not under test here
    response = submit()
    assert response.status_code == 200
    receipt = receipt_in(response)
    case = Case.objects.get()
    assert case.needs_routing
    assert case.need.slug == "asylum-be" and case.country == "UG"
    assert case.languages == ["en", "fr"]
    assert case.language == "en"
    assert not case.urgent
    assert CANARY in case.description
    with connection.cursor() as cursor:
        cursor.execute("SELECT description, receipt_hash FROM helpdesk_case")
        stored_description, stored_hash = cursor.fetchone()
    assert CANARY not in stored_description
    normalized = receipts.normalize(receipt)
    assert normalized not in stored_hash and receipt not in stored_hash
    assert stored_hash == receipts.receipt_hash(normalized)


def test_the_receipt_page_shows_the_code_once_and_matched_guidance(library, submit):
    response = submit()
    page = response.content.decode()
    assert "only way to read our answer" in page
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    assert "no-store" in response["Cache-Control"]
    assert "While you wait" in page or "Organisations that may help" in page


def test_in_danger_marks_the_case_urgent_and_shows_emergency_help_first(submit):
    response = submit(in_danger="yes")
    page = response.content.decode()
    assert Case.objects.get().urgent
    assert page.index("In danger right now?") < page.index("What happens now")
    assert "marked urgent" in page


def test_a_helper_with_nobody_in_danger_reads_how_to_help_first(submit, db):
    add_guidance(
        "in-danger-now",
        emergency=True,
        needs=(),
        position=1,
        translations={"en": {"title": "If you are in danger now", "body": "Leave."}},
    )
    add_guidance(
        "how-to-help",
        audience="friend",
        needs=(),
        position=50,
        translations={"en": {"title": "How to help a friend", "body": "Listen first."}},
    )

    helper = submit(for_whom="other", in_danger="no").content.decode()
    assert "While you wait: how to help" in helper
    assert helper.index("How to help a friend") < helper.index("If you are in danger now")

    # Someone in danger right now, whoever writes: what to do in danger leads.
    urgent = submit(for_whom="other", in_danger="yes").content.decode()
    assert urgent.index("If you are in danger now") < urgent.index("How to help a friend")
    myself = submit(for_whom="self", in_danger="no").content.decode()
    assert "How to help a friend" not in myself


def test_the_form_speaks_of_the_person_a_helper_helps(client, db):
    page = client.get(reverse("intake:write") + "?for=other").content.decode()
    assert "What is happening to the person you are helping?" in page
    own = client.get(reverse("intake:write") + "?for=self").content.decode()
    assert "What is happening?" in own and "the person you are helping" not in own
    # An error keeps the wording of the choice that was made.
    again = client.post(
        reverse("intake:write"), concern(for_whom="other", description=""), follow=True
    )
    assert "What is happening to the person you are helping?" in again.content.decode()


def test_missing_answers_are_explained_next_to_their_field_and_text_kept(client, db):
    data = concern(need=None, country="", consent=None)
    response = client.post(reverse("intake:write"), data, follow=True)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please choose the kind of help." in page
    assert "Please choose a country." in page
    assert "Please confirm that you agree" in page
    assert CANARY in page  # what they typed is still there
    assert not Case.objects.exists()


def test_a_message_over_10000_characters_is_refused_and_kept(client, db):
    text = "x" * 10_001
    response = client.post(reverse("intake:write"), concern(description=text), follow=True)
    assert response.status_code == 400
    assert "at most 10000 characters" in response.content.decode().replace(",", "")
    assert text in response.content.decode()
    assert not Case.objects.exists()


def test_control_characters_are_dropped_not_stored(submit):
    response = submit(description="line one\x00\x07\r\nline two\x1b")
    assert response.status_code == 200
    assert Case.objects.get().description == "line one\nline two"


def test_a_contact_channel_needs_details(client, db):
    response = client.post(reverse("intake:write"), concern(contact_channel="signal"), follow=True)
    assert response.status_code == 400
    assert "how to reach you on this channel" in response.content.decode()


def test_sending_the_same_form_twice_makes_one_case(client, db):
    data = concern(submission_key="same-key-twice")
    first = client.post(reverse("intake:write"), data, follow=True)
    second = client.post(reverse("intake:write"), data, follow=True)
    assert first.status_code == 200
    assert second.status_code == 409
    assert "already have this message" in second.content.decode()
    assert Case.objects.count() == 1


def test_languages_keep_their_order_without_repeats(submit):
    submit(language_1="ar", language_2="ar", language_3="en")
    assert Case.objects.get().languages == ["ar", "en"]


def test_an_unknown_choice_is_an_error_not_a_crash(client, db):
    response = client.post(
        reverse("intake:write"),
        concern(need="999999", country="XX", language_1="klingon", for_whom="everyone"),
    )
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_an_error_is_tied_to_its_field_for_screen_readers(client, db):
    response = client.post(
        reverse("intake:write"), concern(description="", country=""), follow=True
    )
    page = response.content.decode()
    for field in ("description", "country"):
        assert f'<ul class="errors" id="id_{field}_error">' in page
        tag = re.search(rf'<(textarea|select) name="{field}"[^>]*>', page).group(0)
        assert f"id_{field}_error" in tag.split('aria-describedby="')[1].split('"')[0].split()
        assert 'aria-invalid="true"' in tag


def test_whitespace_between_control_characters_is_not_a_message(client, db):
    response = client.post(
        reverse("intake:write"), concern(description="\x01\r\n\x02 \x00"), follow=True
    )
    assert response.status_code == 400
    assert "Please tell us a little about what is happening." in response.content.decode()
    assert not Case.objects.exists()


def test_a_tampered_submission_key_does_not_refuse_the_form(submit):
    for number, key in enumerate(["k" * 65, "\x00", "abc\x00def"], start=1):
        response = submit(submission_key=key)
        assert response.status_code == 200, key
        assert Case.objects.count() == number
    assert all(len(key) <= 64 for key in Case.objects.values_list("submission_key", flat=True))


def test_a_need_added_by_a_coordinator_appears_on_the_form_at_once(client, db):
    client.get(reverse("intake:write"))  # the choices are now kept in memory
    need = Need.objects.create(slug="housing", name="A safe place to sleep", position=9)
    page = client.get(reverse("intake:write")).content.decode()
    assert "A safe place to sleep" in page
    response = client.post(reverse("intake:write"), concern(need=need.pk), follow=True)
    assert response.status_code == 200
    assert Case.objects.get().need == need


def test_the_form_and_a_submission_need_no_query_for_the_library(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # routing is not under test here
    client.get(reverse("intake:write"))
    data = concern()
    with CaptureQueriesContext(connection) as form_queries:
        client.get(reverse("intake:write"))
    with CaptureQueriesContext(connection) as post_queries:
        assert client.post(reverse("intake:write"), data, follow=True).status_code == 200
    library_tables = ("resources_need", "resources_language", "resources_guidance")
    for query in [*form_queries, *post_queries]:
        assert not any(table in query["sql"] for table in library_tables), query["sql"]
    # The embedded default reads the library version from its database cache.
    assert len(form_queries) <= 1
    assert len([q for q in post_queries if "helpdesk_case" in q["sql"]]) == 1


def test_a_reference_already_in_use_is_drawn_again_not_an_error(submit, monkeypatch):
    submit(submission_key="first")
    taken = Case.objects.get().reference
    drawn = iter([taken, "FRESH234"])
    monkeypatch.setattr("helpdesk.cases.new_reference", lambda: next(drawn))
    response = submit(submission_key="second")
    assert response.status_code == 200
    assert set(Case.objects.values_list("reference", flat=True)) == {taken, "FRESH234"}


def test_countries_are_in_the_readers_alphabet_with_their_usual_ones_first(client, db):
    page = client.get(reverse("intake:write"), HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    select = page.split('name="country"')[1].split("</select>")[0]
    often, everything = select.split("<optgroup")[1:3]
    assert '<option value="IR">ایران</option>' in often
    names = re.findall(r'<option value="[A-Z]{2}">([^<]+)</option>', everything)
    assert len(names) > 240
    # Persian order: پاکستان (pe) after بلژیک (be), before تاجیکستان (te).
    assert names.index("بلژیک") < names.index("پاکستان") < names.index("تاجیکستان")
    english = client.get(reverse("intake:write")).content.decode()
    assert "<optgroup" in english.split('name="country"')[1].split("</select>")[0]


def test_contact_details_and_codes_read_left_to_right_in_any_language(client, db):
    page = client.get(reverse("intake:write"), HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    field = re.search(r'<input[^>]*name="contact_details"[^>]*>', page).group(0)
    assert 'dir="ltr"' in field
    follow_up = client.get(reverse("intake:follow_up"), HTTP_ACCEPT_LANGUAGE="ar").content
    receipt = re.search(r'<input[^>]*name="receipt"[^>]*>', follow_up.decode()).group(0)
    assert 'dir="ltr"' in receipt


def test_a_refused_form_lists_its_problems_each_linked_to_its_field(client, db):
    response = client.post(
        reverse("intake:write"), concern(consent=None, country="", description="Kept text.")
    )
    assert response.status_code == 400
    page = response.content.decode()
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert "Everything you wrote is kept below." in summary
    links = re.findall(r'<a href="#([^"]+)">', summary)
    assert links == ["id_country", "id_consent"]  # in the order of the form
    for target in links:
        assert f'id="{target}"' in page
    # Even without JavaScript the page comes back at the summary, not at the top.
    assert 'action="/write/#error-summary"' in page
    assert "Kept text." in page


def test_the_receipt_shows_guides_as_summaries_that_open(library, submit):
    page = submit().content.decode()
    guides = page.split('class="matched-guidance"')[1]
    assert guides.count('<details class="guidance__more"') >= 2
    assert "Read this guide" in guides
    # An emergency is never hidden behind a tap.
    urgent = submit(in_danger="yes").content.decode()
    assert '<details class="guidance__more" open>' in urgent
