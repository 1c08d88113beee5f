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
