import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpdesk.invitations import hash_token, purge_expired_invitations
from helpdesk.models import Invitation, User
from helpdesk.roles import Role
from resources.models import Language, Need

NEW_PASSWORD = "a long and unusual passphrase 7"


def invite(client, email="new.person@example.org", role=Role.VOLUNTEER, **profile) -> str:
    """Invite through the coordinator's page; return the link from the email."""
    data = {"email": email, "role": role, "language": "en", "capacity": 5, **profile}
    response = client.post(reverse("invite_staff"), data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    return re.search(r"https?://\S+/accounts/invitation/\S+/", mail.outbox[-1].body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_coordinator_invites_and_only_a_hash_is_stored(coordinator_client):
    link = invite(coordinator_client)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.email == "new.person@example.org"
    assert invitation.token_hash == hash_token(token)
    assert token not in invitation.token_hash
    assert mail.outbox[0].to == ["new.person@example.org"]
    assert "72 hours" in mail.outbox[0].body


def test_invitee_sets_password_then_must_enrol_totp(coordinator_client):
    client = Client()  # the invitee's own browser
    link = invite(coordinator_client, role=Role.COORDINATOR)
    page = client.get(path_of(link))
    assert page.status_code == 200
    assert "new.person@example.org" in page.content.decode()

    response = client.post(
        path_of(link),
        {"first_name": "Sam", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.org")
    assert user.role == Role.COORDINATOR and user.first_name == "Sam"
    assert user.check_password(NEW_PASSWORD)
    # Signed in, but nothing is reachable before a second factor is enrolled.
    assert client.get(reverse("desk")).url == reverse("mfa_activate_totp")
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


def test_the_invitation_carries_the_profile_and_speaks_their_language(coordinator_client):
    arabic, french = Language.objects.filter(code__in=["ar", "fr"])
    leave = Need.objects.get(slug="leave")
    link = invite(
        coordinator_client,
        language="fr",
        languages=[arabic.pk, french.pk],
        needs=[leave.pk],
        capacity=2,
    )
    french = mail.outbox[0]
    invite(coordinator_client, email="other.person@example.org")
    english = mail.outbox[1]
    assert french.subject != english.subject and french.body != english.body  # in French

    client = Client()
    client.post(
        path_of(link), {"first_name": "Sam", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    user = User.objects.get(email="new.person@example.org")
    profile = user.profile
    assert user.language == "fr"
    assert sorted(profile.languages.values_list("code", flat=True)) == ["ar", "fr"]
    assert list(profile.needs.values_list("slug", flat=True)) == ["leave"]
    assert profile.capacity == 2
    assert profile.routing_blocks() == []  # routing can reach them at once


def test_the_team_page_says_who_no_case_can_reach_and_why(coordinator_client, volunteer):
    page = coordinator_client.get(reverse("team")).content.decode()
    row = page.split(str(volunteer))[1].split("</tr>")[0]
    assert "no cases can reach them" in row
    assert "no language set" in row and "not trained for any need" in row


def test_a_link_works_once(coordinator_client):
    client = Client()  # the invitee's own browser
    link = invite(coordinator_client)
    data = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    client.post(path_of(link), data)
    client.post(reverse("account_logout"))

    again = client.get(path_of(link))
    assert again.status_code == 404
    assert "cannot be used" in again.content.decode()
    assert client.post(path_of(link), data).status_code == 404
    assert User.objects.filter(email="new.person@example.org").count() == 1


def test_a_link_expires_after_72_hours(coordinator_client):
    client = Client()  # the invitee's own browser
    link = invite(coordinator_client)
    with time_machine.travel(timezone.now() + timedelta(hours=71, minutes=59)):
        assert client.get(path_of(link)).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1)):
        assert client.get(path_of(link)).status_code == 404
        response = client.post(
            path_of(link), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        )
        assert response.status_code == 404
    assert not User.objects.filter(email="new.person@example.org").exists()


def test_an_unknown_link_says_the_same_as_a_used_one(client, db):
    response = client.get("/accounts/invitation/not-a-real-token/")
    assert response.status_code == 404
    assert "cannot be used" in response.content.decode()


def test_a_weak_password_is_refused_and_the_name_kept(coordinator_client):
    client = Client()  # the invitee's own browser
    link = invite(coordinator_client)
    response = client.post(
        path_of(link), {"first_name": "Sam", "password1": "short", "password2": "short"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "too short" in page
    assert 'value="Sam"' in page
    assert not User.objects.filter(email="new.person@example.org").exists()


def test_inviting_an_existing_account_is_refused(coordinator_client, volunteer):
    response = coordinator_client.post(
        reverse("invite_staff"), {"email": volunteer.email.upper(), "role": Role.VOLUNTEER}
    )
    assert response.status_code == 200
    assert "already has an account" in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_failed_email_saves_no_invitation(coordinator_client, settings, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("helpdesk.invitations.send_mail", refuse)
    response = coordinator_client.post(
        reverse("invite_staff"), {"email": "x@example.org", "role": Role.VOLUNTEER}
    )
    assert response.status_code == 200
    assert "could not be sent" in response.content.decode()
    assert 'value="x@example.org"' in response.content.decode()
    assert not Invitation.objects.exists()


def test_volunteers_cannot_invite(volunteer_client):
    assert volunteer_client.get(reverse("invite_staff")).status_code == 403
    response = volunteer_client.post(
        reverse("invite_staff"), {"email": "x@example.org", "role": Role.COORDINATOR}
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_expired_invitations_are_purged(coordinator_client):
    invite(coordinator_client)
    assert purge_expired_invitations() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        assert purge_expired_invitations() == 1
    assert not Invitation.objects.exists()


def test_the_first_coordinator_is_invited_from_the_command_line(db):
    from io import StringIO

    from django.core.management import call_command

    output = StringIO()
    call_command("invite", "First@Example.org", stdout=output)
    invitation = Invitation.objects.get()
    assert invitation.email == "first@example.org" and invitation.role == Role.COORDINATOR
    [message] = mail.outbox
    link = re.search(r"https?://\S+/accounts/invitation/(\S+)/", message.body).group(1)
    assert link not in output.getvalue()  # the link is in the mail, never on the terminal
