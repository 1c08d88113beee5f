from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.conftest import sign_in


def test_an_idle_session_ends_after_30_minutes(client, volunteer):
    sign_in(client, volunteer)
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=29)):
        assert client.get(reverse("desk")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=29 + 31)):
        response = client.get(reverse("desk"))
        assert response.status_code == 302
        assert response.url == reverse("account_login")
        assert "_auth_user_id" not in client.session
        page = client.get(response.url)
        assert "Your session ended" in page.content.decode()


def test_an_active_session_ends_after_12_hours(client, volunteer):
    sign_in(client, volunteer)
    start = timezone.now()
    for minutes in range(20, 12 * 60, 20):  # busy all day, never idle
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert client.get(reverse("desk")).status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=5)):
        assert client.get(reverse("desk")).url == reverse("account_login")


def test_session_cookie_does_not_outlive_the_browser(client, volunteer, settings):
    sign_in(client, volunteer)
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert client.session.get_expire_at_browser_close()
