from django.urls import reverse

from helpdesk.roles import Role
from tests.conftest import make_staff, sign_in


def test_admin_login_goes_through_allauth(client, db):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_coordinator_with_totp_reaches_the_admin(coordinator_client):
    response = coordinator_client.get(reverse("admin:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Staff accounts" in page and "Needs" in page
    response = coordinator_client.get(reverse("admin:helpdesk_user_changelist"))
    assert response.status_code == 200


def test_volunteer_is_refused_the_admin(volunteer_client):
    for url in [reverse("admin:index"), reverse("admin:helpdesk_user_changelist")]:
        response = volunteer_client.get(url, follow=True)
        # The admin sends them to its login, which allauth answers with "not allowed".
        assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))
        assert response.status_code == 403


def test_a_deactivated_coordinator_loses_access(client, db):
    coordinator = make_staff("gone@example.org", Role.COORDINATOR)
    sign_in(client, coordinator)
    coordinator.is_active = False
    coordinator.save()
    assert client.get(reverse("desk")).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 302


def test_role_decides_admin_permissions(coordinator, volunteer):
    assert coordinator.is_staff and coordinator.has_perm("resources.change_need")
    assert coordinator.has_module_perms("helpdesk")
    assert not coordinator.has_perm("mfa.change_authenticator")  # not Haven's own
    assert not volunteer.is_staff
    assert not volunteer.has_perm("resources.change_need")
    volunteer.role = Role.COORDINATOR
    volunteer.save(update_fields=["role"])
    volunteer.refresh_from_db()
    assert volunteer.is_staff
