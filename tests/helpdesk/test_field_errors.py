"""A refused form's errors are read by screen readers with their field, on every form:
the shared partials give the error list the id Django 5.2's widgets point
aria-describedby at (`<id>_error`). Checked with the rules bench/fuzz.py applies."""

import re

import pytest
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse

from bench.fuzz import misplaced_errors, parse
from tests.helpdesk.test_desk import new_case, trained


def described_by(page: str, name: str) -> list[str]:
    tag = re.search(rf'<(?:input|textarea|select)[^>]* name="{name}"[^>]*>', page).group(0)
    return re.search(r'aria-describedby="([^"]*)"', tag).group(1).split()


class EveryKind(forms.Form):
    text = forms.CharField(help_text="Say it briefly.", max_length=3)
    choice = forms.ChoiceField(choices=[("a", "A")])
    agree = forms.BooleanField()
    kind = forms.ChoiceField(choices=[("x", "X"), ("y", "Y")], widget=forms.RadioSelect)


@pytest.mark.parametrize(
    ("name", "partial"),
    [
        ("text", "field.html"),
        ("choice", "field.html"),
        ("agree", "checkbox_field.html"),
        ("kind", "choice_field.html"),
    ],
)
def test_each_partial_ties_the_error_to_its_field(name, partial):
    form = EveryKind({"text": "too long", "choice": "b", "kind": "z"})
    assert not form.is_valid()
    page = f"<form>{render_to_string(f'partials/{partial}', {'field': form[name]})}</form>"
    assert f'<ul class="errors" id="id_{name}_error">' in page
    assert misplaced_errors(parse(page)) == []
    if name == "text":
        assert described_by(page, name) == ["id_text_helptext", "id_text_error"]


def test_a_blank_answer_in_the_workspace_is_read_with_its_field(volunteer_client, volunteer):
    trained(volunteer)
    case = new_case(volunteer=volunteer)
    response = volunteer_client.post(reverse("case_reply", args=[case.reference]), {"body": " "})
    assert response.status_code == 400
    page = response.content.decode()
    assert '<ul class="errors" id="reply_body_error">' in page
    assert "reply_body_error" in described_by(page, "body")
    assert misplaced_errors(parse(page)) == []


def test_closing_without_a_reason_is_read_with_the_reason(volunteer_client, volunteer):
    trained(volunteer)
    case = new_case(volunteer=volunteer)
    response = volunteer_client.post(
        reverse("case_status", args=[case.reference]), {"status": "closed", "reason": ""}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please say why the case is closed." in page
    assert described_by(page, "reason") == ["id_reason_error"]
    assert misplaced_errors(parse(page)) == []


def test_an_invitation_to_a_known_address_is_read_with_the_address(coordinator_client, coordinator):
    response = coordinator_client.post(
        reverse("invite_staff"), {"email": coordinator.email, "role": "volunteer"}
    )
    page = response.content.decode()
    assert "This person already has an account." in page
    assert described_by(page, "email") == ["id_email_error"]
    assert misplaced_errors(parse(page)) == []
