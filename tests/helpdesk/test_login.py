from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import PASSWORD, cache_keys, sign_in, totp_code


def assert_throttled(response) -> None:
    assert response.status_code == 200  # the form again, not the code step
    assert "Too many failed login attempts" in response.content.decode()


def test_login_asks_for_the_code_before_the_desk(client, volunteer):
    response = client.post(
        reverse("account_login"), {"login": volunteer.email, "password": PASSWORD}
    )
    assert response.url == reverse("mfa_authenticate")
    assert client.get(reverse("desk")).status_code == 302  # not signed in yet

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200
    assert client.get(reverse("desk")).status_code == 302

    client.post(reverse("mfa_authenticate"), {"code": totp_code(volunteer)})
    response = client.get(reverse("desk"))
    assert response.status_code == 200
    assert "Vic" in response.content.decode()


def test_login_by_email_is_case_insensitive(client, volunteer):
    response = client.post(
        reverse("account_login"), {"login": "Volunteer@Example.org", "password": PASSWORD}
    )
    assert response.url == reverse("mfa_authenticate")


def test_wrong_password_keeps_the_email_and_says_so(client, volunteer):
    response = client.post(reverse("account_login"), {"login": volunteer.email, "password": "nope"})
    page = response.content.decode()
    assert response.status_code == 200
    assert volunteer.email in page
    assert "not correct" in page


def test_failed_logins_are_limited_per_account(client, volunteer):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": volunteer.email, "password": "wrong"})
    # Even the right password is refused while the account is throttled.
    response = client.post(
        reverse("account_login"), {"login": volunteer.email, "password": PASSWORD}
    )
    assert_throttled(response)
    assert client.get(reverse("desk")).status_code == 302


def test_failed_logins_are_limited_per_address(client, volunteer):
    for attempt in range(10):
        client.post(
            reverse("account_login"), {"login": f"nobody{attempt}@example.org", "password": "x"}
        )
    response = client.post(
        reverse("account_login"), {"login": volunteer.email, "password": PASSWORD}
    )
    assert_throttled(response)


def test_other_addresses_are_not_throttled_by_one_address(client, volunteer):
    for attempt in range(10):
        client.post(
            reverse("account_login"),
            {"login": f"nobody{attempt}@example.org", "password": "x"},
            REMOTE_ADDR="203.0.113.7",
        )
    response = client.post(
        reverse("account_login"),
        {"login": volunteer.email, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.20",
    )
    assert response.status_code == 302


def test_rate_limit_counters_never_hold_the_address(client, volunteer, settings):
    for _ in range(3):
        client.post(
            reverse("account_login"),
            {"login": volunteer.email, "password": "wrong"},
            REMOTE_ADDR="203.0.113.77",
        )
    keys = cache_keys()
    assert any("login_failed" in key for key in keys)
    assert not any("203.0.113.77" in key for key in keys)


def test_logout_ends_the_session(client, volunteer):
    sign_in(client, volunteer)
    assert client.get(reverse("desk")).status_code == 200
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(reverse("desk")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_public_sign_up_is_closed(client, db):
    from helpdesk.models import User

    response = client.post(
        reverse("account_signup"),
        {"email": "someone@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "closed" in response.content.decode().lower()
    assert not User.objects.filter(email="someone@example.org").exists()


def test_the_code_of_the_step_just_passed_is_still_accepted_once(client, volunteer):
    client.post(reverse("account_login"), {"login": volunteer.email, "password": PASSWORD})
    code = totp_code(volunteer, offset=-1)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert client.get(reverse("desk")).status_code == 200
    client.post(reverse("account_logout"))
    client.post(reverse("account_login"), {"login": volunteer.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": code})  # the same code again
    assert client.get(reverse("desk")).status_code == 302


def sign_in_with_code(client, user, code: str) -> bool:
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": code})
    signed_in = client.get(reverse("desk")).status_code == 200
    client.post(reverse("account_logout"))
    return signed_in


@pytest.mark.parametrize("later", [31, 59, 88])
def test_a_used_code_is_refused_for_as_long_as_it_is_valid(client, volunteer, later):
    # A code is accepted in the step before and after its own (MFA_TOTP_TOLERANCE = 1).
    # Typed early (a phone a little ahead), it stays valid for almost 90 s: someone who
    # saw it typed must not sign in with it in that time.
    start = datetime(2031, 5, 4, 10, 0, 1, tzinfo=UTC)  # the first second of a step
    with time_machine.travel(start, tick=False):
        code = totp_code(volunteer, offset=1)
        assert sign_in_with_code(client, volunteer, code)
    with time_machine.travel(start + timedelta(seconds=later), tick=False):
        assert not sign_in_with_code(client, volunteer, code)
        # The person's next code still works.
        assert sign_in_with_code(client, volunteer, totp_code(volunteer, offset=1))


def test_a_code_used_to_enrol_cannot_sign_in(client, volunteer):
    from allauth.mfa.models import Authenticator

    from helpdesk.mfa import remember_enrolment_step

    start = datetime(2031, 5, 4, 10, 0, 1, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        totp = Authenticator.objects.get(user=volunteer, type=Authenticator.Type.TOTP)
        remember_enrolment_step(totp)  # as on enrolment, with the code of this step
        code = totp_code(volunteer)
    with time_machine.travel(start + timedelta(seconds=40), tick=False):
        assert not sign_in_with_code(client, volunteer, code)


def test_the_sign_in_pages_are_the_desks_own(client, db):
    page = client.get(reverse("account_login")).content.decode()
    assert page.count("Forgot your password?") == 1
    reset = client.get(reverse("account_reset_password")).content.decode()
    assert 'class="button"' in reset and "Send me the link" in reset
    refused = client.post(reverse("account_reset_password"), {"email": "not an address"})
    assert 'aria-describedby="id_email_error"' in refused.content.decode()
