"""Headers that keep staff pages and ended sessions off the device: no staff response
may be stored by the browser or a proxy, and signing out clears what the site left."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.regex_helper import normalize

from helpdesk.models import Referral
from resources.models import Organisation
from tests.conftest import sign_in
from tests.helpdesk.test_desk import CANARY, new_case, trained

STAFF_PREFIXES = ("desk/", "admin/", "accounts/")


def url_regexes(patterns=None, prefix: str = ""):
    """The full regex of every URL pattern in the URLconf."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        regex = prefix + pattern.pattern.regex.pattern.removeprefix("^")
        if isinstance(pattern, URLResolver):
            yield from url_regexes(pattern.url_patterns, regex.removesuffix("$"))
        elif isinstance(pattern, URLPattern):
            yield regex


def staff_paths(samples: dict[str, str]) -> list[str]:
    """A path for every staff URL in the URLconf, its arguments filled from `samples`
    (anything else gets "1")."""
    paths = set()
    for regex in url_regexes():
        for template, params in normalize(regex.replace("\\Z", "$")):
            if not template.startswith(STAFF_PREFIXES):
                continue
            paths.add("/" + template % {name: samples.get(name, "1") for name in params})
    return sorted(paths)


@pytest.fixture
def desk(volunteer, coordinator):
    trained(volunteer)
    case = new_case(volunteer=volunteer)
    organisation = Organisation.objects.create(
        slug="org", name="Org", website="https://o.example", verified_on=timezone.localdate()
    )
    referral = Referral.objects.create(
        case=case, organisation=organisation, subject="s", body="b", created_by=volunteer
    )
    return {
        "reference": case.reference,
        "user_id": str(volunteer.pk),
        "referral_id": str(referral.pk),
        "object_id": str(volunteer.pk),
        "app_label": "helpdesk",
        "token": "not-a-token",
    }


def test_the_list_covers_the_desk_the_admin_and_sign_in(desk):
    paths = staff_paths(desk)
    for expected in (
        reverse("case", args=[desk["reference"]]),
        reverse("report_referrals_csv"),
        reverse("team_member", args=[desk["user_id"]]),
        "/admin/helpdesk/user/",
        reverse("account_login"),
        reverse("mfa_index"),
    ):
        assert expected in paths
    assert len(paths) > 100


@pytest.mark.parametrize("who", ["anonymous", "coordinator"])
def test_no_staff_response_may_be_stored(client, desk, coordinator, who):
    if who == "coordinator":
        sign_in(client, coordinator)
    for path in staff_paths(desk):
        response = client.get(path)
        assert response.status_code < 500, path
        assert "no-store" in response.get("Cache-Control", ""), (path, response.status_code)
        assert response.get("Cache-Control", "").count("private"), path
    if who == "coordinator":  # still signed in: every page was seen as a coordinator
        assert client.get(reverse("desk")).status_code == 200


def test_a_refused_workspace_form_showing_the_case_is_not_stored(volunteer_client, desk):
    response = volunteer_client.post(reverse("case_reply", args=[desk["reference"]]), {"body": ""})
    assert response.status_code == 400
    assert CANARY in response.content.decode()  # the whole case, shown again
    assert "no-store" in response["Cache-Control"]


def test_signing_out_clears_what_the_site_left_in_the_browser(client, volunteer):
    sign_in(client, volunteer)
    response = client.post(reverse("account_logout"))
    assert re.fullmatch(r'"cache", "cookies", "storage"', response["Clear-Site-Data"])


def test_a_session_ended_by_the_idle_limit_clears_it_too(client, volunteer, settings):
    sign_in(client, volunteer)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        response = client.get(reverse("desk"))
    assert response.url == reverse("account_login")
    assert "cookies" in response["Clear-Site-Data"]


def test_ordinary_staff_pages_do_not_clear_site_data(volunteer_client):
    assert "Clear-Site-Data" not in volunteer_client.get(reverse("desk"))


def test_public_pages_clear_nothing(client, db):
    assert "Clear-Site-Data" not in client.get("/")
