"""Hostile input on the staff side gets a clear refusal, never a 500: ids no database
row can have, NUL characters, and accounts made outside the invitation flow."""

from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse

from helpdesk.models import User, VolunteerProfile
from helpdesk.roles import Role
from tests.conftest import PASSWORD
from tests.helpdesk.test_team import form_for

BEYOND_64_BITS = "99999999999999999999"


@pytest.fixture
def coordinator_client(coordinator_client):
    coordinator_client.raise_request_exception = False  # a 500 is a status, not a crash
    return coordinator_client


@pytest.mark.parametrize(
    "path",
    [
        f"/desk/team/{BEYOND_64_BITS}/",
        f"/desk/cases/REF/referrals/{BEYOND_64_BITS}/",
    ],
)
def test_an_id_beyond_64_bits_in_a_path_is_not_found(coordinator_client, path):
    assert coordinator_client.get(path).status_code == 404


@pytest.mark.parametrize("name", ["desk", "pool", "all_cases"])
def test_a_page_number_too_large_to_count_to_shows_a_page(coordinator_client, name):
    # Within 64 bits itself, but not once multiplied by the page size.
    response = coordinator_client.get(reverse(name), {"page": "99999999999999999"})
    assert response.status_code == 200
    assert coordinator_client.get(reverse(name), {"page": BEYOND_64_BITS}).status_code == 400


def test_a_language_id_beyond_64_bits_in_a_form_is_refused_clearly(coordinator_client, volunteer):
    url = reverse("team_member", args=[volunteer.pk])
    response = coordinator_client.post(url, form_for(volunteer, languages=[BEYOND_64_BITS]))
    assert response.status_code == 400
    assert "not understood" in response.content.decode()


def test_a_template_id_beyond_64_bits_in_a_query_is_refused_clearly(coordinator_client):
    response = coordinator_client.get(reverse("all_cases"), {"volunteer": BEYOND_64_BITS})
    assert response.status_code in (200, 400)
    response = coordinator_client.get("/desk/cases/X/referrals/new/?template=" + BEYOND_64_BITS)
    assert response.status_code in (400, 404)


@pytest.mark.parametrize(
    "query",
    ["role=%00", "role=volunteer%00", "q=%00", "is_active__exact=1%00", "o=1%00"],
)
def test_a_nul_character_in_an_admin_filter_is_refused_clearly(coordinator_client, query):
    response = coordinator_client.get(f"/admin/helpdesk/user/?{query}")
    assert response.status_code == 400
    assert "not understood" in response.content.decode()


def test_a_nul_character_in_a_path_is_refused_clearly(coordinator_client):
    assert coordinator_client.get("/desk/cases/%00/").status_code == 400


def test_a_staff_account_made_in_the_admin_has_a_profile(coordinator_client, volunteer):
    response = coordinator_client.post(
        reverse("admin:helpdesk_user_add"),
        {
            "email": "added@example.org",
            "role": Role.VOLUNTEER,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = User.objects.get(email="added@example.org")
    assert VolunteerProfile.objects.filter(user=added).exists()
    # On the team page, where a coordinator sets languages and needs, like everyone.
    assert "added@example.org" in coordinator_client.get(reverse("team")).content.decode()
    assert coordinator_client.get(reverse("team_member", args=[added.pk])).status_code == 200


def test_accounts_made_before_without_a_profile_get_one(db):
    user = User.objects.create_user("old@example.org", PASSWORD)
    VolunteerProfile.objects.filter(user=user).delete()  # as the admin used to leave it
    migration = import_module("helpdesk.migrations.0009_every_staff_account_has_a_profile")
    migration.give_every_account_a_profile(apps, None)
    assert VolunteerProfile.objects.filter(user=user).exists()
