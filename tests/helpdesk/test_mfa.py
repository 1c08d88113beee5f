"""No staff page without a second factor, whoever asks."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.contrib import admin
from django.urls import reverse

from tests.conftest import PASSWORD, sign_in, sign_in_with_set_up_link


def staff_urls() -> list[str]:
    """Every staff page: the desk's own, and each admin page the site registers."""
    urls = [reverse("desk"), reverse("invite_staff"), reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    return urls


def test_the_list_of_staff_pages_covers_the_admin(db):
    urls = staff_urls()
    assert "/admin/helpdesk/user/" in urls
    assert "/admin/resources/need/" in urls
    assert len(urls) > 10


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_sign_in(client, method):
    for url in staff_urls():
        response = getattr(client, method)(url, follow=True)
        assert response.redirect_chain, url
        assert response.redirect_chain[-1][0].startswith(reverse("account_login")), url
        assert response.status_code == 200
        assert b'name="password"' in response.content


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_password_alone_reaches_no_staff_page(client, outsider, method):
    # The outsider signed in with the right password but never enrolled a factor: not
    # even enrolment, which only a set-up link or an invitation opens.
    for url in staff_urls():
        sign_in(client, outsider)
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
        assert "_auth_user_id" not in client.session, url


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_set_up_link_reaches_only_enrolment(client, outsider, method):
    sign_in_with_set_up_link(client, outsider)
    for url in staff_urls():
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url == reverse("mfa_activate_totp"), url


def test_an_enrolled_account_that_skipped_the_code_is_signed_out(client, volunteer):
    # A session made without the login flow's code step (here: force_login) has not
    # passed the second factor, so it is ended rather than trusted.
    client.force_login(volunteer)
    response = client.get(reverse("desk"))
    assert response.status_code == 302
    assert response.url == reverse("account_login")
    assert "_auth_user_id" not in client.session


def test_enrolment_unlocks_the_desk_and_makes_recovery_codes(transactional_db, client, outsider):
    # Real commits: allauth announces the new authenticator after commit, and that is
    # when this session is marked as having passed the second factor.
    sign_in_with_set_up_link(client, outsider)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    wrong = client.post(reverse("mfa_activate_totp"), {"code": "123456"})
    assert wrong.status_code == 200
    assert client.get(reverse("desk")).status_code == 302

    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert response.status_code == 302
    # The recovery codes come next, with no second code asked: the one just typed
    # proved the factor, and could not be typed again.
    assert client.get(response.url).status_code == 200
    assert client.get(reverse("desk")).status_code == 200
    kinds = set(Authenticator.objects.filter(user=outsider).values_list("type", flat=True))
    assert kinds == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}


def test_totp_secret_is_encrypted_at_rest(client, outsider):
    sign_in_with_set_up_link(client, outsider)
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    client.post(
        reverse("mfa_activate_totp"),
        {"code": format_hotp_value(hotp_value(secret, int(time.time()) // 30))},
    )
    stored = Authenticator.objects.get(user=outsider, type=Authenticator.Type.TOTP).data
    assert secret not in str(stored)
    recovery = Authenticator.objects.get(user=outsider, type=Authenticator.Type.RECOVERY_CODES)
    assert recovery.data["seed"].startswith("gAAAA")  # a Fernet token, not the seed


def test_recovery_code_signs_in_instead_of_totp(client, volunteer):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes.activate(volunteer).get_unused_codes()
    client.post(reverse("account_login"), {"login": volunteer.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert client.get(reverse("desk")).status_code == 200
