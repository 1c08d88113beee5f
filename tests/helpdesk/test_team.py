from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from helpdesk.models import Assignment, Case
from tests.helpdesk.test_desk import new_case, trained


@pytest.fixture
def busy(volunteer):
    trained(volunteer, capacity=3)
    return [new_case(volunteer=volunteer) for _ in range(2)]


def form_for(volunteer, **changes):
    data = {
        "role": "volunteer",
        "languages": list(volunteer.profile.languages.values_list("pk", flat=True)),
        "needs": list(volunteer.profile.needs.values_list("pk", flat=True)),
        "capacity": volunteer.profile.capacity,
        "paused_until": "",
        "active": "on",
        "return_cases": "keep",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_coordinator_sees_the_team_with_loads(coordinator_client, volunteer, busy):
    page = coordinator_client.get(reverse("team")).content.decode()
    assert str(volunteer) in page and "2 / 3" in page


def test_volunteers_cannot_manage_the_team(volunteer_client, volunteer, busy):
    assert volunteer_client.get(reverse("team")).status_code == 403
    url = reverse("team_member", args=[volunteer.pk])
    assert volunteer_client.post(url, form_for(volunteer, capacity=50)).status_code == 403
    volunteer.profile.refresh_from_db()
    assert volunteer.profile.capacity == 3


def test_deactivating_and_keeping_cases_keeps_them(coordinator_client, volunteer, busy):
    url = reverse("team_member", args=[volunteer.pk])
    coordinator_client.post(url, form_for(volunteer, active=None, return_cases="keep"))
    volunteer.refresh_from_db()
    assert not volunteer.is_active
    assert Case.objects.filter(volunteer=volunteer).count() == 2


def test_deactivating_and_returning_cases_frees_them(coordinator_client, volunteer, busy):
    url = reverse("team_member", args=[volunteer.pk])
    response = coordinator_client.post(url, form_for(volunteer, active=None, return_cases="return"))
    assert response.status_code == 302
    assert not Case.objects.filter(volunteer=volunteer).exists()
    assert Assignment.objects.filter(volunteer=volunteer, ended_at__isnull=True).count() == 0


def test_a_volunteer_pauses_and_resumes_themselves(volunteer_client, volunteer, busy):
    until = timezone.localdate() + timedelta(days=7)
    volunteer_client.post(
        reverse("my_availability"), {"until": until.isoformat(), "return_cases": "return"}
    )
    volunteer.profile.refresh_from_db()
    assert volunteer.profile.paused_until == until
    assert not Case.objects.filter(volunteer=volunteer).exists()
    volunteer_client.post(reverse("my_availability"), {"until": "", "return_cases": "keep"})
    volunteer.profile.refresh_from_db()
    assert volunteer.profile.paused_until is None


def test_a_pause_in_the_past_is_refused(volunteer_client, volunteer):
    trained(volunteer)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = volunteer_client.post(
        reverse("my_availability"), {"until": yesterday.isoformat(), "return_cases": "keep"}
    )
    assert response.status_code == 200
    assert "today or a later day" in response.content.decode()
