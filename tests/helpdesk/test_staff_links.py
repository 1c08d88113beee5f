"""The staff navigation's links are rendered once per role and language (desk.staff_links):
each role still sees its own links, in the reader's language."""

from django.urls import reverse
from django.utils import translation

from helpdesk.templatetags.desk import _staff_links
from tests.conftest import sign_in_with_set_up_link


def nav(page: str) -> str:
    return page.split('<nav class="staff-nav"')[1].split("</nav>")[0]


def test_a_volunteer_sees_the_volunteers_links(volunteer_client):
    links = nav(volunteer_client.get(reverse("desk")).content.decode())
    assert f'<a href="{reverse("pool")}">Pool</a>' in links
    assert reverse("all_cases") not in links and reverse("team") not in links


def test_a_coordinator_sees_the_coordinators_links(coordinator_client):
    links = nav(coordinator_client.get(reverse("desk")).content.decode())
    for name in ("all_cases", "team", "report_referrals", "library_review", "access_log"):
        assert f'href="{reverse(name)}"' in links


def test_the_links_follow_the_readers_language(volunteer_client, coordinator_client):
    english = nav(volunteer_client.get(reverse("desk")).content.decode())
    french = nav(volunteer_client.get(reverse("desk"), HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert ">My cases</a>" in english
    assert ">My cases</a>" not in french
    with translation.override("fr"):
        assert _staff_links("fr", False, "/", None) in french


def test_a_session_before_its_second_factor_is_shown_no_links(client, volunteer):
    """Enrolling (a set-up link's session): each desk link would lead back here."""
    sign_in_with_set_up_link(client, volunteer)
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    assert '<nav class="staff-nav"' in page
    assert reverse("pool") not in nav(page) and "<span></span>" in nav(page)
