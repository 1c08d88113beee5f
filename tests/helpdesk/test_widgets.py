"""The staff forms' <select>s render without a template per option, and give exactly the
markup Django's own Select gives: the same page, only sooner."""

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from helpdesk.forms import CaseFilterForm, ReassignForm, StatusForm
from helpdesk.widgets import PrerenderedSelect
from tests.helpdesk.test_desk import new_case, trained


def with_djangos_select(form: forms.Form) -> forms.Form:
    for field in form.fields.values():
        if isinstance(field.widget, PrerenderedSelect):
            plain = forms.Select(attrs=field.widget.attrs)
            plain.choices = field.widget.choices
            field.widget = plain
    return form


def rendered(form: forms.Form) -> dict[str, str]:
    return {name: str(form[name]) for name in form.fields}


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize(
    "data",
    [
        None,
        {"status": "new", "language": "ar", "urgent": "no"},
        {"status": "nonsense", "need": "99999", "volunteer": "x"},  # errors, values kept
    ],
)
def test_the_case_filter_renders_as_djangos_select_does(volunteer, coordinator, data, language):
    volunteer.first_name = 'Vic <b>"&" \'</b>'  # names are escaped as Django escapes them
    volunteer.save()
    if data and "need" not in data:
        data = {**data, "volunteer": str(volunteer.pk)}
    with translation.override(language):
        ours = rendered(CaseFilterForm(data))
        djangos = rendered(with_djangos_select(CaseFilterForm(data)))
    assert ours == djangos
    assert "&lt;b&gt;&quot;&amp;&quot; &#x27;&lt;/b&gt;" in ours["volunteer"]


def test_the_workspace_forms_render_as_djangos_select_does(volunteer):
    case = new_case(volunteer=trained(volunteer))
    for make in (
        lambda: StatusForm(initial={"status": "waiting", "reason": ""}),
        lambda: ReassignForm(case=case, initial={"volunteer": volunteer.pk}),
        lambda: StatusForm({"status": "closed"}),
    ):
        assert rendered(make()) == rendered(with_djangos_select(make()))
    assert f'<option value="{volunteer.pk}" selected>' in str(
        ReassignForm(case=case, initial={"volunteer": volunteer.pk})["volunteer"]
    )


def test_the_filtered_list_keeps_the_chosen_filters(coordinator_client, volunteer):
    trained(volunteer)
    new_case(volunteer=volunteer, languages=("ar",))
    page = coordinator_client.get(
        reverse("all_cases"), {"volunteer": volunteer.pk, "language": "ar", "urgent": "no"}
    ).content.decode()
    assert f'<option value="{volunteer.pk}" selected>Vic</option>' in page
    assert '<option value="ar" selected>' in page
    assert '<option value="no" selected>' in page
    assert page.count(" selected>") == 5  # with "Any" status and need


def test_staff_are_listed_as_everywhere_else_by_name_or_email(volunteer, coordinator):
    volunteer.first_name, volunteer.last_name = "Vic", "Okafor"
    volunteer.save()
    coordinator.first_name = coordinator.last_name = ""
    coordinator.save()
    options = dict(CaseFilterForm().fields["volunteer"].choices)
    assert options[volunteer.pk] == str(volunteer) == "Vic Okafor"
    assert options[coordinator.pk] == str(coordinator) == coordinator.email
    case = new_case(languages=("ar",))
    handover = dict(ReassignForm(case=case).fields["volunteer"].choices)
    assert handover[volunteer.pk].startswith("Vic Okafor — ")
