"""The reports as every coordinator shares them: figures and drawing kept under the
rollups' version, per language, with nothing of one coordinator in what the next one is
served."""

import re
from datetime import timedelta

from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from helpdesk import report_views
from helpdesk.roles import Role
from tests.conftest import make_staff, sign_in
from tests.helpdesk.test_reports import DAY, START, T0, at
from tests.helpdesk.test_reports import desk as desk  # noqa: F401  (a fixture)
from tests.helpdesk.test_reports import fixture as fixture  # noqa: F401  (a fixture)

HEALTH = {"start": START, "end": START + 13 * DAY}
REVIEW = {"start": START, "end": START + 20 * DAY}


def other_coordinator(email: str = "other@haven.test", **headers) -> Client:
    client = Client(**headers)
    sign_in(client, make_staff(email, Role.COORDINATOR))
    return client


def csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def drawn(response) -> bool:
    """Whether this request drew the report itself (rather than serving the drawing)."""
    return any(t.name.startswith("helpdesk/reports/_") for t in response.templates)


def test_a_report_is_drawn_once_and_served_to_every_coordinator(coordinator_client, desk):
    with at(T0 + 10 * DAY):
        first = coordinator_client.get(reverse("report_health"), HEALTH)
        second = other_coordinator().get(reverse("report_health"), HEALTH)
    assert drawn(first) and not drawn(second)
    mine, theirs = first.content.decode(), second.content.decode()
    assert "2025-W10" in theirs and theirs.count('class="chart chart--') == 3 and "fa · " in theirs
    # Each page carries its own coordinator's sign-out token, never the first one's.
    assert csrf_token(mine) != csrf_token(theirs) and csrf_token(mine) not in theirs
    assert "coordinator@example.org" not in theirs


def test_nothing_personal_lands_in_the_shared_drawing(coordinator_client, fixture):
    with at(T0 + 20 * DAY):
        page = coordinator_client.get(reverse("report_referrals"), REVIEW).content.decode()
        form = report_views.ReferralFilterForm(REVIEW)
        assert form.is_valid()
        body = cache.get(f"{report_views.report_key('referrals', form)}:body:en:1")
    token = csrf_token(page)
    assert "Referral outcomes" in body and "Alpha" in body
    assert token not in body and "csrfmiddlewaretoken" not in body
    assert "coordinator@example.org" not in body


def test_each_language_gets_its_own_drawing(coordinator_client, desk):
    with at(T0 + 10 * DAY):
        english = coordinator_client.get(reverse("report_health"), HEALTH).content.decode()
        dutch = (
            other_coordinator(HTTP_ACCEPT_LANGUAGE="nl")
            .get(reverse("report_health"), HEALTH)
            .content.decode()
        )
    assert "Median hours to a volunteer" in english
    assert "Mediaan aantal uren tot toewijzing" in dutch
    assert "Mediaan" not in english


def test_the_folded_filters_stay_folded_for_the_default_view(coordinator_client, desk):
    with at(T0 + 10 * DAY):
        plain = coordinator_client.get(reverse("report_health")).content.decode()
        chosen = coordinator_client.get(reverse("report_health"), HEALTH).content.decode()
        again = other_coordinator().get(reverse("report_health")).content.decode()
    assert '<details class="panel filters-box">' in plain
    assert '<details class="panel filters-box" open>' in chosen
    assert '<details class="panel filters-box">' in again


def test_presets_offer_the_last_90_days_and_two_years(coordinator_client, desk):
    with at(T0 + 10 * DAY):
        page = coordinator_client.get(reverse("report_referrals")).content.decode()
    two_years = (T0 + 10 * DAY - timedelta(days=729)).date().isoformat()
    assert f'href="{reverse("report_referrals")}?start={two_years}"' in page
    with at(T0 + 10 * DAY):
        response = coordinator_client.get(reverse("report_referrals"), {"start": two_years})
    assert response.context["review"].start.isoformat() == two_years
