"""A staff member's sign-in address is changed by a coordinator, never by the account
itself: whoever holds a session could otherwise send the next reset link elsewhere."""

from allauth.account.models import EmailAddress
from django.urls import reverse

from tests.conftest import sign_in


def test_staff_cannot_add_or_change_their_own_address(volunteer_client, volunteer, mailoutbox):
    page = volunteer_client.get(reverse("account_email"))
    assert page.status_code == 200
    assert "ask a coordinator" in page.content.decode()
    for action in ("action_add", "action_send", "action_primary"):
        volunteer_client.post(
            reverse("account_email"), {action: "", "email": "elsewhere@example.org"}
        )
    volunteer.refresh_from_db()
    assert volunteer.email == "volunteer@example.org"
    assert not EmailAddress.objects.filter(email="elsewhere@example.org").exists()
    assert mailoutbox == []


def test_a_coordinator_changes_it_and_the_old_address_gets_nothing(
    coordinator_client, volunteer, client, mailoutbox
):
    EmailAddress.objects.create(user=volunteer, email=volunteer.email, primary=True, verified=True)
    url = reverse("admin:helpdesk_user_change", args=[volunteer.pk])
    response = coordinator_client.post(
        url,
        {
            "email": "vic@new.example.org",
            "first_name": volunteer.first_name,
            "last_name": "",
            "role": volunteer.role,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    volunteer.refresh_from_db()
    assert volunteer.email == "vic@new.example.org"
    assert list(EmailAddress.objects.filter(user=volunteer).values_list("email", flat=True)) in (
        [],
        ["vic@new.example.org"],
    )
    client.post(reverse("account_reset_password"), {"email": "volunteer@example.org"})
    assert mailoutbox == []
    client.post(reverse("account_reset_password"), {"email": "vic@new.example.org"})
    assert [mail.to for mail in mailoutbox] == [["vic@new.example.org"]]
    sign_in(client, volunteer)
    assert client.get(reverse("desk")).status_code == 200
