"""The second factor stays with its owner: it cannot be removed, changing it takes the
current one, a password alone never enrols one, and a coordinator's reset ends every
session and sends a fresh single-use link to set it up again."""

import re
import time
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpdesk import invitations
from helpdesk.models import FactorReset
from helpdesk.roles import Role
from tests.conftest import PASSWORD, make_staff, sign_in, totp_code

NEW_PASSWORD = "a long and unusual passphrase 7"


def reauthenticate(client: Client, user) -> None:
    """Confirm with the authenticator, as a person asked "confirm it is you" does. The
    code of the next step: the one that signed in a moment ago counts once only."""
    response = client.post(reverse("mfa_reauthenticate"), {"code": totp_code(user, offset=1)})
    assert response.status_code == 302, response.content.decode()[:1000]


def code_for(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_staff_cannot_remove_their_last_second_factor(volunteer_client, volunteer):
    volunteer_client.get(reverse("mfa_deactivate_totp"))
    reauthenticate(volunteer_client, volunteer)
    page = volunteer_client.get(reverse("mfa_deactivate_totp"))
    assert "cannot be removed" in page.content.decode()
    volunteer_client.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=volunteer, type=Authenticator.Type.TOTP).exists()


@pytest.mark.parametrize("name", ["mfa_deactivate_totp", "replace_totp"])
def test_a_password_does_not_confirm_a_change_of_the_second_factor(
    volunteer_client, volunteer, name
):
    response = volunteer_client.get(reverse(name))
    assert response.url.startswith(reverse("mfa_reauthenticate"))
    # Asking for the password page instead leads back to the code.
    password = volunteer_client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert password.status_code == 302
    assert password.url.startswith(reverse("mfa_reauthenticate"))
    assert volunteer_client.get(reverse(name)).url.startswith(reverse("mfa_reauthenticate"))


def test_a_password_alone_never_enrols_a_second_factor(client, outsider):
    # An account without a factor, and someone who knows its password: trust on first
    # use would let them enrol their own authenticator and lock the owner out.
    for url in (reverse("desk"), reverse("mfa_activate_totp")):
        sign_in(client, outsider)
        response = client.get(url)
        assert response.status_code == 403
        assert "ask a coordinator" in response.content.decode()
        assert "_auth_user_id" not in client.session
    assert not Authenticator.objects.filter(user=outsider).exists()


def test_a_volunteer_moves_to_a_new_phone_with_their_current_code(volunteer_client, volunteer):
    old = Authenticator.objects.get(user=volunteer, type=Authenticator.Type.TOTP)
    assert volunteer_client.get(reverse("replace_totp")).status_code == 302
    reauthenticate(volunteer_client, volunteer)
    page = volunteer_client.get(reverse("replace_totp"))
    assert page.status_code == 200
    secret = volunteer_client.session[SECRET_SESSION_KEY]
    assert secret in page.content.decode()  # to type into the app by hand
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()  # or to scan

    wrong = volunteer_client.post(reverse("replace_totp"), {"code": "123456"})
    assert wrong.status_code == 200
    assert Authenticator.objects.filter(pk=old.pk).exists()  # nothing changed yet

    response = volunteer_client.post(reverse("replace_totp"), {"code": code_for(secret)})
    assert response.url == reverse("mfa_index")
    assert not Authenticator.objects.filter(pk=old.pk).exists()
    volunteer_client.post(reverse("account_logout"))
    # The new phone signs in; the old one does not.
    client = Client()
    client.post(reverse("account_login"), {"login": volunteer.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code(volunteer, offset=1)})
    assert client.get(reverse("desk")).status_code == 200


def reset_link(coordinator_client, user) -> str:
    """A coordinator resets `user`'s second factor from the team page; the link mailed."""
    mail.outbox.clear()
    response = coordinator_client.post(
        reverse("reset_second_factor", args=[user.pk]), {"confirm": "on"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [message] = mail.outbox
    assert message.to == [user.email]
    return re.search(r"https?://\S+/accounts/set-up/\S+/", message.body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_a_coordinator_resets_a_volunteers_second_factor(
    transactional_db, coordinator_client, volunteer
):
    # Real commits: allauth announces the new authenticator after commit, and that is
    # when the session is marked as having passed the second factor.
    their_browser = Client()
    sign_in(their_browser, volunteer)
    assert their_browser.get(reverse("desk")).status_code == 200

    link = reset_link(coordinator_client, volunteer)
    # Every session of theirs ends; the factor and the old password are gone.
    assert their_browser.get(reverse("desk")).url.startswith(reverse("account_login"))
    assert not Authenticator.objects.filter(user=volunteer).exists()
    volunteer.refresh_from_db()
    assert not volunteer.check_password(PASSWORD)
    # Only a hash of the link's token is stored; the mail says nothing about cases.
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert FactorReset.objects.get().token_hash == invitations.hash_token(token)
    assert "case" not in mail.outbox[0].body.lower()

    # The volunteer opens the link, chooses a password and enrols a new authenticator.
    page = their_browser.get(path_of(link))
    assert page.status_code == 200
    response = their_browser.post(
        path_of(link), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.url == reverse("mfa_activate_totp")
    their_browser.get(reverse("mfa_activate_totp"))
    secret = their_browser.session[SECRET_SESSION_KEY]
    their_browser.post(reverse("mfa_activate_totp"), {"code": code_for(secret)})
    assert their_browser.get(reverse("desk")).status_code == 200

    # The link worked once.
    again = Client().get(path_of(link))
    assert again.status_code == 404
    assert "cannot be used" in again.content.decode()


def test_the_link_expires(coordinator_client, volunteer):
    link = reset_link(coordinator_client, volunteer)
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        assert Client().get(path_of(link)).status_code == 404


def test_a_new_reset_makes_the_previous_link_unusable(coordinator_client, volunteer):
    first = reset_link(coordinator_client, volunteer)
    second = reset_link(coordinator_client, volunteer)
    assert Client().get(path_of(first)).status_code == 404
    assert Client().get(path_of(second)).status_code == 200


def test_knowing_the_password_after_a_reset_gives_nothing(coordinator_client, volunteer):
    reset_link(coordinator_client, volunteer)
    volunteer.set_password(PASSWORD)  # say someone set it through a password reset mail
    volunteer.save()
    client = Client()
    sign_in(client, volunteer)
    assert client.get(reverse("mfa_activate_totp")).status_code == 403


def test_the_coordinator_must_confirm_and_the_factor_stays_otherwise(
    coordinator_client, volunteer
):
    response = coordinator_client.post(reverse("reset_second_factor", args=[volunteer.pk]), {})
    assert response.status_code == 400
    assert Authenticator.objects.filter(user=volunteer).exists()
    assert mail.outbox == []


def test_volunteers_cannot_reset_anyone(volunteer_client, coordinator):
    url = reverse("reset_second_factor", args=[coordinator.pk])
    assert volunteer_client.post(url, {"confirm": "on"}).status_code == 403
    assert Authenticator.objects.filter(user=coordinator).exists()


def test_a_coordinator_cannot_reset_their_own(coordinator_client, coordinator):
    url = reverse("reset_second_factor", args=[coordinator.pk])
    assert coordinator_client.post(url, {"confirm": "on"}).status_code == 403
    assert Authenticator.objects.filter(user=coordinator).exists()


def test_when_the_mail_cannot_be_sent_nothing_changes(
    coordinator_client, volunteer, monkeypatch
):
    def smtp_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", smtp_down)
    response = coordinator_client.post(
        reverse("reset_second_factor", args=[volunteer.pk]), {"confirm": "on"}
    )
    assert "could not be sent" in response.content.decode()
    assert Authenticator.objects.filter(user=volunteer).exists()
    volunteer.refresh_from_db()
    assert volunteer.check_password(PASSWORD)
    assert not FactorReset.objects.exists()


def test_the_team_page_offers_the_reset(coordinator_client, volunteer):
    page = coordinator_client.get(reverse("team_member", args=[volunteer.pk])).content.decode()
    assert reverse("reset_second_factor", args=[volunteer.pk]) in page
    unenrolled = make_staff("new@example.org", Role.VOLUNTEER, mfa=False)
    page = coordinator_client.get(reverse("team_member", args=[unenrolled.pk])).content.decode()
    assert "not set up" in page
