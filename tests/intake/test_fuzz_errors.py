"""A refused public form says what is wrong next to each field, in a way screen readers
announce: the rules bench/fuzz.py checks on every answer under load, here on single
requests (the findings that rules out are in bench/results/fuzz.md)."""

from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bench.fuzz import misplaced_errors, parse
from helpdesk.models import Case
from tests.intake.conftest import concern, receipt_in


def field_errors(page: str) -> set[str]:
    """The names of the fields that show an error."""
    return {
        node.attrs["id"].removeprefix("id_").removesuffix("_errors").removesuffix("_error")
        for node in parse(page).walk()
        if node.tag == "ul" and "errors" in node.classes and "id" in node.attrs
    }


def test_every_error_of_the_concern_form_is_tied_to_its_field(client, db):
    response = client.post(
        reverse("intake:write"),
        concern(
            for_whom="nobody",  # radio buttons
            country="",  # a select
            description=" ",  # a textarea
            contact_channel="signal",
            contact_details="",
            contact_code_word="c" * 101,  # a text input
            consent=None,  # a checkbox
        ),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert field_errors(page) == {
        "for_whom",
        "country",
        "description",
        "contact_details",
        "contact_code_word",
        "consent",
    }
    assert misplaced_errors(parse(page)) == []


def test_a_wrong_receipt_is_tied_to_the_receipt_field(client, db):
    response = client.post(reverse("intake:follow_up"), {"receipt": "NOT-A-REAL-CODE"})
    assert response.status_code == 400
    page = response.content.decode()
    assert field_errors(page) == {"receipt"}
    assert misplaced_errors(parse(page)) == []


def test_a_blank_answer_in_the_inbox_is_tied_to_its_field(submit, db):
    visitor = Client()
    visitor.post(reverse("intake:follow_up"), {"receipt": receipt_in(submit())})
    response = visitor.post(reverse("intake:inbox"), {"body": "   "})
    assert response.status_code == 400
    page = response.content.decode()
    assert field_errors(page) == {"body"}
    assert misplaced_errors(parse(page)) == []


def test_a_tampered_submission_key_never_refuses_without_saying_why(client, db):
    response = client.post(reverse("intake:write"), concern(submission_key="k" * 65), follow=True)
    page = response.content.decode()
    if response.status_code == 200:
        assert receipt_in(response) and Case.objects.count() == 1
    else:
        assert field_errors(page), "refused, but no field shows why"
        assert misplaced_errors(parse(page)) == []


blank = st.text(alphabet="\x00\x01\x08\x0b\x1b\x7f\x85\x9f \t\r\n\u00a0\u3000", min_size=1)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(description=blank)
def test_a_description_of_control_characters_and_spaces_is_refused(db, description):
    before = Case.objects.count()  # examples share the test's database
    response = Client().post(
        reverse("intake:write"), concern(description=description, submission_key=None)
    )
    assert response.status_code == 400
    assert "description" in field_errors(response.content.decode())
    assert Case.objects.count() == before
