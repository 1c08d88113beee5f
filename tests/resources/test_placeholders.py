"""Referral templates: an unknown or malformed placeholder is refused when the template is
saved; filling one in takes plain strings and never touches the database."""

import pytest
from django.core.exceptions import ValidationError

from resources import placeholders
from resources.models import ReferralTemplate
from tests.resources.conftest import add_organisation, add_template

VALUES = {
    "need": "Asylum in Belgium",
    "country": "Uganda",
    "languages": "English, Luganda",
    "volunteer_first_name": "Noor",
    "case_reference": "HVN-7Q4K",
    "organisation": "Vluchtelingenwerk Vlaanderen",
}


# No `db` fixture in these: pytest-django fails any test that touches the database.


def test_fill_replaces_every_placeholder():
    text = (
        "Dear {organisation}, {volunteer_first_name} refers {case_reference} "
        "({need}, {country}, {languages})."
    )
    assert placeholders.fill(text, VALUES) == (
        "Dear Vluchtelingenwerk Vlaanderen, Noor refers HVN-7Q4K "
        "(Asylum in Belgium, Uganda, English, Luganda)."
    )


def test_double_braces_are_literal_braces():
    assert placeholders.fill("{{need}} is {need}", VALUES) == "{need} is Asylum in Belgium"


def test_values_are_inserted_as_they_are():
    values = {**VALUES, "volunteer_first_name": "{case_reference} {0.__class__}"}
    assert placeholders.fill("{volunteer_first_name}", values) == "{case_reference} {0.__class__}"


def test_a_template_renders_without_a_database():
    template = ReferralTemplate(
        subject="Referral {case_reference}", body="From {volunteer_first_name}"
    )
    rendered = template.render(VALUES, consented=False)
    assert rendered == placeholders.Rendered(subject="Referral HVN-7Q4K", body="From Noor")


def test_a_missing_value_is_an_error_not_a_blank():
    with pytest.raises(KeyError):
        placeholders.fill("{case_reference}", {"need": "x"})


@pytest.mark.parametrize(
    "text",
    [
        "{unknown}",
        "{Need}",
        "{ need }",
        "{}",
        "{0}",
        "{need.__class__}",
        "{need[0]}",
        "{need!r}",
        "{need:>40}",
        "{need:{country}}",
    ],
)
def test_anything_but_a_known_name_is_refused(text):
    with pytest.raises(ValidationError) as error:
        placeholders.validate(f"Hello {text}")
    assert error.value.code == "unknown_placeholder"
    # Attribute and index access never reaches str.format, even when filling.
    with pytest.raises((ValidationError, KeyError)):
        placeholders.fill(text, VALUES)


@pytest.mark.parametrize("text", ["{need", "need}", "{case_reference}}", "{{need}", "}{"])
def test_a_brace_without_its_partner_is_refused(text):
    with pytest.raises(ValidationError) as error:
        placeholders.validate(text)
    assert error.value.code == "malformed"


def test_used_lists_the_names():
    assert placeholders.used("{need} {need} {country} {{x}}") == {"need", "country"}


def test_an_unknown_placeholder_is_refused_when_the_template_is_saved(db):
    organisation = add_organisation("vluchtelingenwerk")
    template = ReferralTemplate(
        slug="vw-nl",
        organisation=organisation,
        need_id=organisation.needs.get().pk,
        language_id="nl",
        subject="Doorverwijzing {case_ref}",
        body="Beste {organisation}, {volunteer.first_name}",
    )
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    assert set(error.value.message_dict) == {"subject", "body"}
    assert "{case_ref}" in error.value.message_dict["subject"][0]
    assert "{volunteer.first_name}" in error.value.message_dict["body"][0]


def test_a_good_template_saves_and_renders(db):
    add_organisation("vluchtelingenwerk")
    template = add_template("vw-en", "vluchtelingenwerk")
    assert template.pk
    assert template.render(VALUES, consented=True).subject == "Referral HVN-7Q4K"


def test_the_message_says_the_person_agreed_only_once_they_did():
    template = ReferralTemplate(
        subject="Referral {case_reference}",
        body="Someone needs help. {consent} Their need: {need}.",
        consent="They agreed that we contact {organisation}.",
    )
    before = template.render(VALUES, consented=False).body
    after = template.render(VALUES, consented=True).body
    assert before == "Someone needs help. Their need: Asylum in Belgium."
    assert after == (
        "Someone needs help. They agreed that we contact Vluchtelingenwerk Vlaanderen. "
        "Their need: Asylum in Belgium."
    )
