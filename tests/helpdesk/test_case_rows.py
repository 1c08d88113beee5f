# ruff: noqa: E501 - the reference markup is the template's, long lines and all
"""The rows of a case list are built by one tag (desk.case_rows), not a template node per
cell; they must give exactly the markup the cells' template gave, in every language,
with every value escaped."""

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from helpdesk.models import Case, Message, User
from helpdesk.roles import Role
from tests.conftest import make_staff
from tests.helpdesk.test_desk import away, new_case, trained

# The cells as the table's template wrote them before (issue 17): the reference markup.
CELLS = """{% load i18n desk %}{% for case in cases %}
      <tr>
        <th scope="row" data-label="{% translate "Case" %}"><a href="{% url 'case' case.reference %}">{{ case.reference }}</a></th>
        <td data-label="{% translate "Urgency" %}">{% if case.urgent %}<span class="tag tag--urgent">{% translate "Urgent" %}</span>{% else %}{% translate "Normal" %}{% endif %}{% if case.escalated_at %} <span class="tag">{% translate "Escalated" %}</span>{% endif %}{% if case.duress_at %} <span class="tag tag--urgent">{% translate "May be under duress" %}</span>{% endif %}</td>
        <td data-label="{% translate "Need" %}">{{ case.need|need_name }}</td>
        {% if show_status %}<td data-label="{% translate "Status" %}">{{ case.get_status_display }}</td>{% endif %}
        <td data-label="{% translate "Languages" %}">{{ case.languages|join:", " }}</td>
        <td data-label="{% translate "Waiting" %}">{{ case.created_at|timesince:now }}</td>
        <td data-label="{% translate "Waiting on" %}">{% if case.last_message_author == "staff" %}{% translate "the person" %}{% else %}{% translate "us" %}{% endif %}</td>
        <td data-label="{% translate "Last message" %}">{% if case.last_message_at %}{{ case.last_message_at|timesince:now }}{% else %}—{% endif %}</td>
        {% if show_volunteer %}<td data-label="{% translate "Volunteer" %}">{{ case.volunteer|default:_("pool") }}</td>{% endif %}
        {% if claim %}<td><form method="post" action="{% url 'case_claim' case.reference %}">{% csrf_token %}<button type="submit" class="button button--small">{% translate "Take this case" %}</button></form></td>{% endif %}
      </tr>
    {% endfor %}"""
ROWS = """{% load desk %}{% case_rows cases now show_status=show_status show_volunteer=show_volunteer claim=claim %}"""


@pytest.fixture
def listed(volunteer):
    """Cases in every state a row shows: urgent or not, escalated, flagged under
    duress, answered by staff or by the person, in the pool or with a volunteer whose
    name needs escaping."""
    volunteer.first_name, volunteer.last_name = "Vic <b>\"&'", "O'Neil"
    volunteer.save()
    trained(volunteer, capacity=10)
    theirs = new_case(volunteer=volunteer, urgent=True, languages=("ar", "en"))
    theirs.messages.create(author=Message.Author.STAFF, body="Hello")
    with away(volunteer):
        new_case(languages=("fa",))  # waiting in the pool
    escalated = new_case(volunteer=volunteer)
    Case.objects.filter(pk=escalated.pk).update(
        escalated_at=timezone.now(), duress_at=timezone.now()
    )
    answered = new_case(volunteer=volunteer)
    answered.messages.create(author=Message.Author.SUBMITTER, body="Thanks")
    return list(Case.objects.for_listing().order_by("-urgent", "created_at"))


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
@pytest.mark.parametrize(
    "flags",
    [{}, {"show_status": True, "show_volunteer": True}, {"claim": True, "show_volunteer": False}],
)
def test_the_rows_are_the_cells_markup(listed, language, flags):
    context = {"cases": listed, "now": timezone.now(), "csrf_token": "tok<en>", **flags}
    with translation.override(language):
        expected = Template(CELLS).render(Context(context))
        built = Template(ROWS).render(Context(context))
    assert built == expected
    assert "Vic &lt;b&gt;&quot;&amp;&#x27;" in built or not flags.get("show_volunteer")


def test_a_claim_form_carries_the_pages_csrf_token(volunteer_client, volunteer):
    trained(volunteer)
    with away(volunteer):
        case = new_case()
    page = volunteer_client.get("/desk/pool/").content.decode()
    assert f'action="/desk/cases/{case.reference}/claim/"><input type="hidden" ' in page
    assert 'name="csrfmiddlewaretoken" value="' in page


def test_a_listed_volunteer_without_a_name_shows_their_address(coordinator_client, db):
    nameless = make_staff("nameless@example.org", Role.VOLUNTEER, first_name="")
    trained(nameless)
    new_case(volunteer=nameless)
    page = coordinator_client.get("/desk/cases/").content.decode()
    assert ">nameless@example.org</td>" in page
    assert User.objects.filter(email="nameless@example.org").exists()
